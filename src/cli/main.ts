// Command-line entry: `npm run lifeboat -- backup|list|verify <file>|import <file>`.
// No logic lives here (see src/cli/command-line.ts); exit codes are documented in USAGE.
import { runCommandLine } from "./command-line.ts";

// A leading `--` (which `npx deno task lifeboat -- list` hands on) is skipped by the parser.
const code = await runCommandLine(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
// Exit once the output is flushed (an idle database handle must not keep the process alive).
process.stdout.write("", () => process.exit(code));
