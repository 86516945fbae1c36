import { BatchLoader } from '../src/batch-loader';

/** A loader whose reads are answered by the test, in order. */
function loaderOf(options: {
  maxBatch: number;
  concurrency: number;
  weight?: (key: number) => number;
}) {
  const reads: { keys: number[]; answer(values: Map<number, string> | Error): void }[] = [];
  const loader = new BatchLoader<number, string>(
    (keys) =>
      new Promise((resolve, reject) =>
        reads.push({
          keys,
          answer: (values) => (values instanceof Error ? reject(values) : resolve(values)),
        }),
      ),
    { ...options, missing: (key) => `none for ${key}` },
  );
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const valuesOf = (keys: number[]) => new Map(keys.map((key) => [key, `value of ${key}`]));
  return { loader, reads, settle, valuesOf };
}

describe('a batch loader', () => {
  it('when a key is asked for while nothing is read, then it is read at the end of that turn of the event loop, alone', async () => {
    const { loader, reads, settle, valuesOf } = loaderOf({ maxBatch: 10, concurrency: 1 });
    const value = loader.load(7);
    expect(reads).toHaveLength(0);
    await settle();
    expect(reads.map((r) => r.keys)).toEqual([[7]]);
    reads[0]!.answer(valuesOf([7]));
    expect(await value).toBe('value of 7');
  });

  it('when keys are asked for in one turn, then they are read together, a repeated key once', async () => {
    const { loader, reads, settle, valuesOf } = loaderOf({ maxBatch: 10, concurrency: 2 });
    const values = [1, 2, 1].map((key) => loader.load(key));
    await settle();
    expect(reads.map((r) => r.keys)).toEqual([[1, 2]]);
    reads[0]!.answer(valuesOf([1, 2]));
    expect(await Promise.all(values)).toEqual([1, 2, 1].map((key) => `value of ${key}`));
  });

  it('when keys are asked for while a batch is read, then they go together in the next one, a repeated key once, and never join the batch in flight', async () => {
    const { loader, reads, settle, valuesOf } = loaderOf({ maxBatch: 10, concurrency: 1 });
    const first = loader.load(1);
    await settle();
    const values = [2, 3, 2, 1].map((key) => loader.load(key));
    await settle();
    expect(reads.map((r) => r.keys)).toEqual([[1]]);
    reads[0]!.answer(valuesOf([1]));
    await settle();
    expect(reads.map((r) => r.keys)).toEqual([[1], [2, 3, 1]]);
    reads[1]!.answer(valuesOf([2, 3, 1]));
    expect(await Promise.all([first, ...values])).toEqual(
      [1, 2, 3, 2, 1].map((key) => `value of ${key}`),
    );
  });

  it('when more keys wait than a batch holds, then they go in batches of at most maxBatch, up to concurrency at once', async () => {
    const { loader, reads, settle, valuesOf } = loaderOf({ maxBatch: 2, concurrency: 2 });
    const values = [1, 2, 3, 4, 5, 6, 7].map((key) => loader.load(key));
    await settle();
    expect(reads.map((r) => r.keys)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    reads[0]!.answer(valuesOf([1, 2]));
    await settle();
    expect(reads.map((r) => r.keys).slice(2)).toEqual([[5, 6]]);
    reads[1]!.answer(valuesOf([3, 4]));
    reads[2]!.answer(valuesOf([5, 6]));
    await settle();
    expect(reads.map((r) => r.keys).slice(3)).toEqual([[7]]);
    reads[3]!.answer(valuesOf([7]));
    expect(await Promise.all(values)).toHaveLength(7);
  });

  it('when a read fails, then only the keys of that batch fail, and a key missing from an answer gets the missing value', async () => {
    const { loader, reads, settle, valuesOf } = loaderOf({ maxBatch: 10, concurrency: 1 });
    const first = loader.load(1);
    await settle();
    const [second, third] = [2, 3].map((key) => loader.load(key));
    reads[0]!.answer(new Error('database away'));
    await expect(first).rejects.toThrow('database away');
    await settle();
    reads[1]!.answer(valuesOf([2]));
    expect(await second).toBe('value of 2');
    expect(await third).toBe('none for 3');
  });

  it('when keys weigh, then a batch holds at most maxBatch of weight, and a key heavier than that goes alone', async () => {
    const { loader, reads, settle, valuesOf } = loaderOf({
      maxBatch: 5,
      concurrency: 1,
      weight: (key) => key,
    });
    const values = [1, 2, 3, 9, 4].map((key) => loader.load(key));
    await settle();
    reads[0]!.answer(valuesOf([1, 2]));
    await settle();
    reads[1]!.answer(valuesOf([3]));
    await settle();
    reads[2]!.answer(valuesOf([9]));
    await settle();
    reads[3]!.answer(valuesOf([4]));
    expect(await Promise.all(values)).toHaveLength(5);
    expect(reads.map((r) => r.keys)).toEqual([[1, 2], [3], [9], [4]]);
  });
});
