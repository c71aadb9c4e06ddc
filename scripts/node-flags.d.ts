/** The flags between `node` and the script in package.json's `start:prod`, as argv entries. */
export function prodNodeFlags(root?: string): string[];
