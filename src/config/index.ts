/**
 * The configuration: the base read once from defaults, a YAML file and the environment
 * (load.ts), and the runtime overrides an administrator changes while the gateway runs,
 * kept in the shared store and applied on every replica (live.ts).
 */
export * from './load';
