// The little of Deno's and Bun's globals the examples use, for type-checking them with tsc here
// (Deno and Bun bring their own, complete declarations).
declare const Deno: { env: { get(name: string): string | undefined } };
declare const Bun: { env: Record<string, string | undefined> };
