/** Levenshtein distance (insertions, deletions, substitutions) with a single rolling row. */
export function editDistance(left: string, right: string): number {
  let previousRow = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let leftIndex = 1; leftIndex <= left.length; leftIndex++) {
    const currentRow = [leftIndex];
    for (let rightIndex = 1; rightIndex <= right.length; rightIndex++) {
      const substitutionCost = left[leftIndex - 1] === right[rightIndex - 1] ? 0 : 1;
      currentRow.push(
        Math.min(
          (previousRow[rightIndex] ?? 0) + 1,
          (currentRow[rightIndex - 1] ?? 0) + 1,
          (previousRow[rightIndex - 1] ?? 0) + substitutionCost,
        ),
      );
    }
    previousRow = currentRow;
  }
  return previousRow[right.length] ?? 0;
}
