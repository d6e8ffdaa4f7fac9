// Shared pure utilities. Other components import lib only through this file.
export * from './ip.ts';
export * from './go-duration.ts';
