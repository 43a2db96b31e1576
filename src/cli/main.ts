// `paramtrace`: the command line's entry. It stays small so that a command that may trace starts the
// trace worker first: Node and onnxruntime's binding then load in the worker while this process loads
// the rest of paramtrace (commands.ts) and reads the model.
import { pathToFileURL } from 'node:url';
import { cancelEarlyTrace, startTraceEarly } from '../trace/trace-model.ts';

export async function run(argv: string[]): Promise<number> {
  if (mayTrace(argv)) startTraceEarly();
  try {
    const { runCommand } = await import('./commands.ts');
    return await runCommand(argv);
  } finally {
    cancelEarlyTrace();
  }
}

/** analyze, compare and report trace ONNX files unless told not to. */
function mayTrace(argv: readonly string[]): boolean {
  const [command, ...rest] = argv;
  return (
    (command === 'analyze' || command === 'compare' || command === 'report') &&
    !rest.includes('--no-trace') &&
    !rest.includes('--help') &&
    !rest.includes('-h') &&
    rest.some((a) => a.endsWith('.onnx'))
  );
}

// Run when executed directly (tsx src/cli/main.ts); bin/paramtrace.js imports run() instead.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await run(process.argv.slice(2));
}
