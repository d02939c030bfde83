/**
 * Exits with `code` once everything written to stdout and stderr has been handed to the OS. `process.exit()`
 * right after a write to a pipe can cut the output off (writes to a full pipe are queued, and exit drops the
 * queue): a lane's closing LANE_RESULT line, or `npm test`'s closing `N passed, M failed` line, would be lost.
 */
export function exitFlushed(code) {
  process.exitCode = code;
  let left = 2;
  const done = () => {
    if (--left === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}
