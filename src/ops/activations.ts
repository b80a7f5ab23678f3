// Placeholder until the activation ops land.
export const ACTIVATION_OPS = [] as const;
