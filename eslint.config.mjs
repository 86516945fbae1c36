import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.turbo/**',
      '**/.data/**',
      '**/coverage/**',
      '.cache/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The domain core knows nothing about processes (docs/design.md §1): servers, signals,
    // metrics and log construction are @mm/platform's, which the apps give core as ports.
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['pino', 'prom-client', 'express', 'socket.io', '@mm/platform'].map((name) => ({
            name,
            message: 'Process plumbing belongs in packages/platform; core takes a port instead.',
          })),
          patterns: [
            {
              regex: '^node:(http|https|net|os|perf_hooks|child_process|cluster)$',
              message: 'Process plumbing belongs in packages/platform; core takes a port instead.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'core reads no environment and handles no signals.' },
      ],
    },
  },
  prettier,
);
