// Applies migrations/*.sql to a Miniflare D1 binding, for tests.
//
//   import { applyD1Migrations } from './support/migrations.mjs';
//   const db = await mf.getD1Database('DB');
//   await applyD1Migrations(db);
//
// The splitter is deliberately simple and relies on the conventions of the
// migration files: comments are whole lines starting with '--', and every
// statement ends with ';' at the end of a line (no ';' followed by a line
// break inside string literals).

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);

/** Statements per `d1.batch` call. */
export const BATCH_SIZE = 50;

/**
 * The migration files, as absolute paths, sorted by file name
 * (0001_..., 0002_..., ...). Synchronous; awaiting the result also works.
 * @returns {string[]}
 */
export function listMigrationFiles() {
  const dir = fileURLToPath(MIGRATIONS_DIR);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => fileURLToPath(new URL(name, MIGRATIONS_DIR)));
}

/**
 * Splits a migration file into statements: drops lines whose first
 * non-blank characters are '--', then splits on ';' at the end of a line
 * (trailing spaces allowed). The returned statements are trimmed, without
 * the final ';', and never empty.
 * @param {string} sql
 * @returns {string[]}
 */
export function splitStatements(sql) {
  const body = sql
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return body
    .split(/;[ \t]*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Runs every migration file, in name order, against a D1 binding
 * (`await mf.getD1Database('DB')`), in batches of BATCH_SIZE statements.
 * @param {{ prepare(sql: string): unknown, batch(stmts: unknown[]): Promise<unknown> }} d1
 * @returns {Promise<{ files: string[], statements: number }>}
 */
export async function applyD1Migrations(d1) {
  const files = listMigrationFiles();
  let statements = 0;
  for (const file of files) {
    const stmts = splitStatements(readFileSync(file, 'utf8'));
    for (let i = 0; i < stmts.length; i += BATCH_SIZE) {
      const chunk = stmts.slice(i, i + BATCH_SIZE);
      try {
        await d1.batch(chunk.map((s) => d1.prepare(s)));
      } catch (err) {
        const where = `${file} statements ${i + 1}-${i + chunk.length}`;
        throw new Error(`migration failed in ${where}: ${err?.message ?? err}`, { cause: err });
      }
      statements += chunk.length;
    }
  }
  return { files, statements };
}
