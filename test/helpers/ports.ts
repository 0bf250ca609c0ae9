import { createSocket } from 'node:dgram';
import { type AddressInfo, connect, createServer } from 'node:net';

/** A loopback port the kernel found free (bound on 0, then released), for a peer that needs one. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A port free for both TCP and UDP (SIP peers use both). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await freeTcpPort();
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

/** Whether something accepts TCP connections on the loopback port now (a peer that has started). */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
