export * from './operator-decisions';
export * from './principal';
export * from './canonical-identifier';
export * from './subject-policy';
export * from './jit-admission';
export * from './signal-state';
