import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import nunjucks from 'nunjucks';
import { projectRoot } from '../paths.ts';

const here = join(projectRoot, 'src', 'web');
const require = createRequire(import.meta.url);

/** Where NHS.UK frontend's built files live (its templates, styles and images). */
export const nhsukDist = join(dirname(require.resolve('nhsuk-frontend/package.json')), 'dist');

export function templateEngine(): nunjucks.Environment {
  return new nunjucks.Environment(
    new nunjucks.FileSystemLoader([join(here, 'views'), nhsukDist], { noCache: false }),
    { autoescape: true, throwOnUndefined: false },
  );
}

export const staticDir = join(here, 'static');
