// Child processes of the spec runners: the fake CrateDB control server and the lanes.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { root } from "./bundle.mjs";

/**
 * Starts the control server built at `file` (or another server speaking its protocol, with `args` and
 * extra `env`); resolves with its URL, a stop function and a promise of its exit.
 */
export function startControl(file, args = [], env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...env } });
    const exited = new Promise((r) => child.once("exit", (code, signal) => r(code ?? signal)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^CONTROL_URL=(\S+)/.exec(line);
      if (m) resolve({ url: m[1], stop: () => child.kill("SIGTERM"), exited });
    });
    child.once("exit", (code) => reject(new Error(`control server exited (${code})`)));
  });
}

/**
 * Runs one lane, passing its output through, and resolves with its counts: from its
 * `LANE_RESULT {...}` line, else its closing `N passed, M failed` line; a lane that exits non-zero
 * or prints neither counts as failed.
 */
export function runLane(name, command, argv, env) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    let result;
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^LANE_RESULT (.*)$/.exec(line);
      const total = /^(\d+) passed, (\d+) failed$/.exec(line);
      if (m) result = JSON.parse(m[1]);
      else if (total) result = { passed: Number(total[1]), failed: Number(total[2]), notApplicable: 0 };
      else console.log(line);
    });
    child.once("close", (code) => {
      if (!result) {
        console.log(`${name}: the lane ended (exit ${code}) without a result`);
        result = { passed: 0, failed: 1, notApplicable: 0, failures: [`ended (exit ${code}) without a result`] };
      } else if (code !== 0 && result.failed === 0) {
        result.failed = 1;
        result.failures = [`exited with ${code} after reporting no failure`];
      } else if (result.failed > 0 && !(result.failures?.length > 0)) {
        result.failures = [`${result.failed} failed: see the ${name} lane's output above`];
      }
      resolve(result);
    });
  });
}
