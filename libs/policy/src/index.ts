export * from './operator-decisions';
