export async function synthCommand(_argv: string[]): Promise<void> {
  throw new Error('synth is being built (issue 2)');
}
