/**
 * Ends this support process when its stdin closes. The test that spawned it holds the other end of
 * the pipe, so the pipe closes when the test process is gone for any reason, including SIGKILL;
 * without this a crashed test run would leave a worker looping forever. Returns a function that
 * stops watching (so that a process that has finished its work can exit normally).
 */
export function exitWhenParentGoes(): () => void {
  const onEnd = () => {
    process.stderr.write('stdin closed: the test process is gone, exiting\n');
    process.exit(3);
  };
  process.stdin.on('end', onEnd);
  process.stdin.resume();
  return () => {
    process.stdin.off('end', onEnd);
    process.stdin.destroy();
  };
}
