// Lint: type-aware rules that catch real bugs (floating promises), plus our layering rule:
// code in one component (src/<component>/) may import another component only through its
// index.ts (or, for the utility modules in src/lib, src/lib/<module>/index.ts), never its
// internal files.
import tseslint from 'typescript-eslint';
import path from 'node:path';

const SRC = path.resolve(import.meta.dirname, 'src');

/** @type {import('eslint').Rule.RuleModule} */
const noDeepImports = {
  meta: { type: 'problem', messages: { deep: "'{{spec}}' reaches into component '{{comp}}': import its index.ts instead" } },
  create(context) {
    const file = context.filename;
    const rel = path.relative(SRC, file);
    const fromComp = rel.startsWith('..') ? null : rel.split(path.sep)[0];
    function check(node) {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.relative(SRC, path.resolve(path.dirname(file), spec));
      if (target.startsWith('..')) return;
      const parts = target.split(path.sep);
      const comp = parts[0];
      if (comp === fromComp) return;
      if (parts.length === 2 && parts[1] === 'index.ts') return;
      // src/lib holds independent utility modules: each sub-folder's index.ts is public too.
      if (comp === 'lib' && parts.length === 3 && parts[2] === 'index.ts') return;
      context.report({ node: node.source, messageId: 'deep', data: { spec, comp } });
    }
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tmp/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { local: { rules: { 'no-deep-imports': noDeepImports } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'local/no-deep-imports': 'error',
      'no-debugger': 'error',
      'eqeqeq': ['error', 'smart'],
    },
  },
);
