import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'dashboard/', '.kerbside/', 'dist/', 'artifacts/', 'scratch/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  { files: ['cli/**', 'bench/**', 'simulators/**/*-cli.ts', 'scripts/**'], rules: { 'no-console': 'off' } },
)
