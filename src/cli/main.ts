/** ctnat CLI entry (Node-only edge). */
export async function main(argv: string[]): Promise<void> {
  process.stdout.write(`ctnat: ${argv.join(" ")}\n`);
}
