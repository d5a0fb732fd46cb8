// Text to token ids and back through a model's tokenizer.json, with
// @huggingface/tokenizers (a JavaScript port of HF tokenizers that needs no
// network).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Tokenizer } from '@huggingface/tokenizers';

/**
 * The separator between stories in claq's text files, one per line, as in
 * the TinyStories dumps: `story\n<|endoftext|>\nstory`.
 */
export const STORY_SEPARATOR = '<|endoftext|>';

export class TextTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** The id put before each text, or null when the model has no BOS token. */
    readonly bosTokenId: number | null,
  ) {}

  /**
   * Loads `tokenizer.json` (and `tokenizer_config.json` when present) from a
   * model folder; resolves to null when the folder has no tokenizer.json.
   */
  static async load(dir: string, bosTokenId: number | null): Promise<TextTokenizer | null> {
    const tokenizerPath = join(dir, 'tokenizer.json');
    if (!existsSync(tokenizerPath)) return null;
    const configPath = join(dir, 'tokenizer_config.json');
    const tokenizerJson = JSON.parse(await readFile(tokenizerPath, 'utf8')) as object;
    const configJson = existsSync(configPath) ? JSON.parse(await readFile(configPath, 'utf8')) as object : {};
    return new TextTokenizer(new Tokenizer(tokenizerJson, configJson), bosTokenId);
  }

  /**
   * Encodes one text as `[BOS] + encode(text)` (no BOS when `bos` is false or
   * the model has none). The tokenizer's own special tokens are not added, so
   * BOS appears exactly once whatever its post-processor adds.
   */
  encode(text: string, { bos = true }: { bos?: boolean } = {}): number[] {
    const ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    return bos && this.bosTokenId !== null ? [this.bosTokenId, ...ids] : ids;
  }

  /**
   * Encodes a text file of stories separated by {@link STORY_SEPARATOR} lines
   * into one stream, each story as `[BOS] + encode(story)` (the llama2.c
   * convention). A text without separators is one story; one trailing newline
   * at the end of the file is dropped, and empty stories are skipped.
   */
  encodeStories(text: string): Int32Array {
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    const ids: number[] = [];
    for (const story of body.split(`\n${STORY_SEPARATOR}\n`)) {
      if (story.length === 0) continue;
      for (const id of this.encode(story)) ids.push(id);
    }
    return Int32Array.from(ids);
  }

  /** Decodes ids to text, leaving out special tokens such as BOS and EOS. */
  decode(ids: ArrayLike<number>): string {
    return this.tokenizer.decode(Array.from(ids), { skip_special_tokens: true });
  }
}
