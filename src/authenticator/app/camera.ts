/** Scanning the activation QR code with the phone's camera, where the browser can (BarcodeDetector). */

interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>;
}
type BarcodeDetectorConstructor = new (options: { formats: string[] }) => BarcodeDetectorLike;

let camera: { stream: MediaStream; timer: ReturnType<typeof setInterval> } | undefined;

export function stopCamera() {
  if (!camera) return;
  clearInterval(camera.timer);
  for (const track of camera.stream.getTracks()) track.stop();
  camera = undefined;
}

/** The browser can scan QR codes itself (BarcodeDetector and a camera, in a secure context). */
export function cameraScanning(): boolean {
  return (
    'BarcodeDetector' in window &&
    typeof navigator.mediaDevices?.getUserMedia === 'function' &&
    window.isSecureContext
  );
}

export async function startCamera(
  video: HTMLVideoElement,
  status: HTMLElement,
  onCode: (text: string) => Promise<void>,
) {
  stopCamera();
  const Detector = (window as unknown as { BarcodeDetector: BarcodeDetectorConstructor }).BarcodeDetector;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    video.srcObject = stream;
    await video.play();
    const detector = new Detector({ formats: ['qr_code'] });
    let busy = false;
    const timer = setInterval(async () => {
      if (busy || !video.isConnected) return;
      busy = true;
      try {
        const [code] = await detector.detect(video);
        if (code?.rawValue) {
          stopCamera();
          await onCode(code.rawValue);
        }
      } catch {
        // A frame that could not be read: try the next.
      } finally {
        busy = false;
      }
    }, 300);
    camera = { stream, timer };
    status.textContent = 'Point your camera at the QR code on your PC.';
  } catch {
    status.textContent =
      'The camera could not be started. Paste the link or type the code shown on your PC instead.';
    video.hidden = true;
  }
}
