// Street names written along their lines when no tile server draws the streets.
import { expect, test } from 'vitest'
import { drawStreetLabels, labelPlacement } from '../../dashboard/src/lib/street-labels.ts'

test('a name goes on the middle of the longest segment, never upside down', () => {
  expect(labelPlacement([0, 0, 10, 0, 110, 0])).toEqual({ x: 60, y: 0, angle: 0, length: 100 })
  // Drawn right to left: turned half a turn so it reads left to right.
  const back = labelPlacement([200, 50, 0, 50])!
  expect(Math.abs(back.angle)).toBeCloseTo(0, 9)
  expect(labelPlacement([5, 5])).toBeNull()
})

/** A 2D context that records the names it is asked to write. */
function recordingContext(written: string[]) {
  let m = new DOMMatrix()
  return {
    save() {}, restore() {}, strokeText() {},
    fillText(text: string) { written.push(text) },
    measureText: (text: string) => ({ width: text.length * 6 }),
    getTransform: () => m,
    setTransform(next: DOMMatrix) { m = next },
  } as unknown as CanvasRenderingContext2D
}

test('names too long for their street, off screen, or overlapping a longer street’s name are left out', () => {
  const written: string[] = []
  const n = drawStreetLabels(recordingContext(written), [
    { name: 'Short Street Name That Does Not Fit', points: [10, 10, 40, 10] },
    { name: 'Mill Lane', points: [0, 100, 300, 100] },
    { name: 'Mill Close', points: [20, 102, 280, 102] }, // on top of Mill Lane
    { name: 'Park Road', points: [0, 300, 300, 300] },
    { name: 'Far Away', points: [2000, 50, 2300, 50] },
  ], 800, 600)
  expect(written).toEqual(['Mill Lane', 'Park Road'])
  expect(n).toBe(2)
})
