/** Run the CLI from sources (`node --import tsx src/cli/entry.ts ...`): what bin/ctnat does with dist/. */
import { main } from "./main.js";

await main(process.argv.slice(2));
