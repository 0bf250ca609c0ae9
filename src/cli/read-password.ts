import { createInterface } from 'node:readline';

/**
 * The password comes from standard input when it is piped (first line), so that scripts never put
 * it on the command line; on a terminal it is asked for twice, without echo.
 */
export async function readPassword(input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (!input.isTTY) {
    let data = '';
    for await (const chunk of input) {
      data += chunk;
      if (data.length > 64 * 1024) throw new Error('the password given on standard input is too long');
    }
    return data.split(/\r?\n/)[0] ?? '';
  }
  const first = await prompt('Password: ');
  const second = await prompt('Password again: ');
  if (first !== second) throw new Error('the two passwords do not match');
  return first;
}

function prompt(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
    // Hide what is typed: only the question itself is written.
    output._writeToOutput = (s: string) => {
      if (s.startsWith(question)) process.stdout.write(question);
    };
  });
}
