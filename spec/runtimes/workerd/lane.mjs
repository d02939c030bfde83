// Shared between the test handler and the workerd-only specs: the worker's bindings, set by test().
export const lane = { env: undefined };
