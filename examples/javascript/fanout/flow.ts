// A dynamic fan-out ETL, in TypeScript: the number of extract tasks is known
// only at run time (the `n` parameter). A run of `etl` with parameter `n`
// creates exactly `n` task runs (one `extract` per row); transform and load
// run in the flow body.
import { flow, getRunLogger, task } from "weft";

interface Summary {
  rows: number;
  total: number;
}

/** Extracts row `i` of the source: its value is `i * i`. */
const extract = task((i: number): number => i * i, { name: "extract", tags: ["etl", "extract"] });

/** Transforms the extracted values (here: doubles them). */
function transform(values: number[]): number[] {
  return values.map((value) => value * 2);
}

/** Loads the transformed rows and returns the summary. */
function load(rows: number[]): Summary {
  return { rows: rows.length, total: rows.reduce((sum, row) => sum + row, 0) };
}

/** Extracts `n` rows concurrently, transforms and loads them. */
export const etl = flow(
  async function etl({ n = 10 }: { n?: number }): Promise<Summary> {
    const logger = getRunLogger();
    const futures = extract.map(Array.from({ length: n }, (_, i) => i));
    const values: number[] = await futures.result();
    logger.info(`extracted ${values.length} rows`);
    const summary = load(transform(values));
    logger.info("loaded:", summary);
    return summary;
  },
  {
    name: "etl",
    description: "Extracts n rows concurrently, transforms and loads them.",
    parameters: { n: { type: "integer", default: 10 } },
  },
);
