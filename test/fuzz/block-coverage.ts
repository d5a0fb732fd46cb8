// V8 block coverage through node:inspector, as fuzzing feedback.
//
// Profiler.startPreciseCoverage({ callCount: true, detailed: true }) counts
// executions per block, and each Profiler.takePreciseCoverage returns the
// counts since the previous take. V8 leaves out a block whose count equals
// that of the range around it (MergeNestedRanges in V8's
// src/debug/debug-coverage.cc), so a block is known by the ranges seen in
// any take, and its count in one take is the count of the innermost reported
// range that contains it. A feature is (block, log2 bucket of its count),
// as AFL buckets edge hit counts; an input that yields a feature not seen
// before is kept.
import { Session } from 'node:inspector/promises';

interface Range {
  start: number;
  end: number;
}

interface CountedRange extends Range {
  count: number;
}

interface ScriptBlocks {
  /** Known block ranges, sorted by start ascending, then end descending (parents first). */
  ranges: Range[];
  keys: Set<string>;
}

interface CoverageFunction {
  ranges: Array<{ startOffset: number; endOffset: number; count: number }>;
}

interface ScriptCoverage {
  url: string;
  functions: CoverageFunction[];
}

/** Bucket of an execution count: 1, 2, 3, 4-7, 8-15, ... (0 is never a feature). */
function countBucket(count: number): number {
  return count <= 3 ? count : 2 + Math.floor(Math.log2(count));
}

function byStartThenLongest(a: Range, b: Range): number {
  return a.start - b.start || b.end - a.end;
}

/** Block coverage of the scripts whose URL contains one of `urlParts`. */
export class BlockCoverage {
  private readonly session = new Session();
  private readonly scripts = new Map<string, ScriptBlocks>();
  private readonly seen = new Set<string>();
  private readonly covered = new Set<string>();

  constructor(private readonly urlParts: readonly string[]) {}

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  async stop(): Promise<void> {
    await this.session.post('Profiler.stopPreciseCoverage');
    await this.session.post('Profiler.disable');
    this.session.disconnect();
  }

  /** Discards the counts gathered so far (for example, while loading modules). */
  async reset(): Promise<void> {
    await this.session.post('Profiler.takePreciseCoverage');
  }

  /** Known blocks, blocks run at least once, and distinct features so far. */
  get size(): { blocks: number; covered: number; features: number } {
    let blocks = 0;
    for (const script of this.scripts.values()) blocks += script.ranges.length;
    return { blocks, covered: this.covered.size, features: this.seen.size };
  }

  /**
   * Takes the counts since the last call and returns how many features they
   * add to those seen before, and how many of those are blocks never run
   * before (both 0: the input found nothing new).
   */
  async takeNewFeatures(): Promise<{ features: number; blocks: number }> {
    const { result } = await this.session.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    let added = 0;
    let blocksAdded = 0;
    for (const script of result) {
      if (!this.urlParts.some((part) => script.url.includes(part))) continue;
      const reported = this.learnBlocks(script);
      const blocks = this.scripts.get(script.url) as ScriptBlocks;
      const counts = innermostCounts(blocks.ranges, reported);
      for (let k = 0; k < counts.length; k++) {
        if (counts[k] === 0) continue;
        const block = `${script.url}#${blocks.ranges[k].start}:${blocks.ranges[k].end}`;
        const feature = `${block}#${countBucket(counts[k])}`;
        if (!this.seen.has(feature)) {
          this.seen.add(feature);
          added++;
        }
        if (!this.covered.has(block)) {
          this.covered.add(block);
          blocksAdded++;
        }
      }
    }
    return { features: added, blocks: blocksAdded };
  }

  // Adds the ranges of this take to the script's known blocks and returns
  // them sorted, parents first.
  private learnBlocks(script: ScriptCoverage): CountedRange[] {
    let blocks = this.scripts.get(script.url);
    if (blocks === undefined) {
      blocks = { ranges: [], keys: new Set() };
      this.scripts.set(script.url, blocks);
    }
    const reported: CountedRange[] = [];
    let grew = false;
    for (const fn of script.functions) {
      for (const range of fn.ranges) {
        reported.push({ start: range.startOffset, end: range.endOffset, count: range.count });
        const key = `${range.startOffset}:${range.endOffset}`;
        if (!blocks.keys.has(key)) {
          blocks.keys.add(key);
          blocks.ranges.push({ start: range.startOffset, end: range.endOffset });
          grew = true;
        }
      }
    }
    if (grew) blocks.ranges.sort(byStartThenLongest);
    return reported.sort(byStartThenLongest);
  }
}

/**
 * For each known block (sorted parents first), the count of the innermost
 * reported range that contains it, or 0. Ranges nest or are disjoint, so one
 * sweep with a stack of open reported ranges finds each innermost container.
 */
export function innermostCounts(blocks: readonly Range[], reported: readonly CountedRange[]): number[] {
  const counts = new Array<number>(blocks.length).fill(0);
  const open: CountedRange[] = [];
  let next = 0;
  for (let k = 0; k < blocks.length; k++) {
    const block = blocks[k];
    while (next < reported.length && reported[next].start <= block.start) {
      const range = reported[next++];
      while (open.length > 0 && open[open.length - 1].end <= range.start) open.pop();
      open.push(range);
    }
    while (open.length > 0 && open[open.length - 1].end < block.end) open.pop();
    const container = open[open.length - 1];
    if (container !== undefined && container.start <= block.start) counts[k] = container.count;
  }
  return counts;
}
