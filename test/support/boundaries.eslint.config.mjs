// Only the apps' import-boundary rule, without the type-aware presets (which take seconds per
// file): what test/import-boundaries.e2e-spec.ts lints crossing imports with. Plain Node ESM.
import tseslint from 'typescript-eslint';
import boundaries from '../../scripts/eslint-boundaries.mjs';

export default [
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { boundaries },
    rules: { 'boundaries/imports': 'error' },
  },
];
