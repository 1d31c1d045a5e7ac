// The samsa command as users run it: help, version, usage errors.
import { runCli } from './run-cli.js';

describe('samsa', () => {
  test('--help lists the commands and exits 0', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('samsa <command>');
    expect(r.stdout).toContain('log');
  });

  test('--version prints the package version', () => {
    const r = runCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('an unknown command is a usage error with exit code 2', () => {
    const r = runCli(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('samsa:');
  });

  test('no command at all is a usage error', () => {
    const r = runCli([]);
    expect(r.status).toBe(2);
  });
});
