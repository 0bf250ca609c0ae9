#!/usr/bin/env node
// Entry point for `npx gatehouse` and `npm start`: loads the TypeScript sources through tsx,
// so there is no separate build step to forget on a fresh clone.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
