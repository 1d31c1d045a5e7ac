// What every command handler gets: where to print, and where to leave its exit code.
// Commands never call process.exit themselves, so the CLI stays testable in-process too.

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface CliContext {
  io: CliIo;
  exitCode: number;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};
