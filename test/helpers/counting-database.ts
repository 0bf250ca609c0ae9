import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs } from 'kysely';
import type { Store } from '../../src/core/store.ts';
import { kyselyStore } from '../../src/store/kysely-store.ts';
import type { TestDatabase } from './engines.ts';

/**
 * The database of `base`, whose store counts every query it sends (a Kysely plugin on the real
 * engine): to show that idle streams cost nothing.
 */
export function countingDatabase(base: TestDatabase): TestDatabase & { queries(): number } {
  let count = 0;
  const counter: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs) {
      count++;
      return args.node;
    },
    transformResult: async (args: PluginTransformResultArgs) => args.result,
  };
  return {
    ...base,
    async open(): Promise<Store> {
      // The first open migrates; the counted store then works on the migrated database.
      await (await base.open()).close();
      const engine = base.rawEngine();
      return kyselyStore(engine, engine.db.withPlugin(counter));
    },
    queries: () => count,
  };
}
