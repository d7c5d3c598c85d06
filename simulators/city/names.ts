// Word lists for a synthetic English city. The names are made up from common English place-name
// parts, so that no generated address is mistaken for a real one.
import type { Random } from '../random.ts'

const STEMS = [
  'Abbey', 'Acorn', 'Alder', 'Ash', 'Aspen', 'Badger', 'Barn', 'Beech', 'Bell', 'Birch', 'Black', 'Bramble', 'Brook', 'Broom', 'Cedar',
  'Chapel', 'Cherry', 'Church', 'Clay', 'Clover', 'Cole', 'Copper', 'Crab', 'Cross', 'Dale', 'Dean', 'Deer', 'Elm', 'Fern', 'Field',
  'Fox', 'Garden', 'Glebe', 'Gold', 'Grange', 'Green', 'Hall', 'Hare', 'Hawthorn', 'Hazel', 'Heath', 'Hill', 'Holly', 'Ivy', 'Kiln',
  'King', 'Lark', 'Laurel', 'Lime', 'Linden', 'Maple', 'Marsh', 'Meadow', 'Mill', 'Moor', 'Moss', 'North', 'Oak', 'Orchard', 'Park',
  'Pine', 'Pool', 'Primrose', 'Priory', 'Queen', 'Raven', 'Red', 'Rose', 'Rowan', 'Rush', 'Sand', 'School', 'Silver', 'South', 'Spring',
  'Stone', 'Swan', 'Thorn', 'Tower', 'Valley', 'Vicarage', 'Water', 'Well', 'West', 'White', 'Willow', 'Wind', 'Wood', 'Wren', 'Yew',
]
const ENDINGS = ['', 'field', 'wood', 'ley', 'ton', 'bank', 'side', 'mere', 'croft', 'dale', 'hurst', 'lands', 'bury', 'gate', 'worth', 'combe']
const SUFFIXES = ['Road', 'Street', 'Avenue', 'Lane', 'Close', 'Drive', 'Grove', 'Crescent', 'Terrace', 'Way', 'Gardens', 'Place', 'Walk', 'Court']

const WARD_WORDS = [
  'Abbeyfield', 'Allerbrook', 'Ashcroft', 'Belmont', 'Brackendale', 'Broadheath', 'Castlefield', 'Claremont', 'Cressington', 'Deysford',
  'Eastbury', 'Fairhaven', 'Fernhill', 'Gladstone', 'Grangemoor', 'Greenbank', 'Hawkshead', 'Highfield', 'Hollinwood', 'Kingsmead',
  'Larkhill', 'Linacre', 'Longmoor', 'Marshside', 'Meadowcroft', 'Millbrook', 'Moorfield', 'Netherley', 'Northwood', 'Oakhurst',
  'Orchardside', 'Parkfield', 'Priorsgate', 'Queensway', 'Ravenscroft', 'Redbank', 'Riverside', 'Rosebury', 'Sandfield', 'Seafield',
  'Silverdale', 'Southmead', 'Springwood', 'Stanfield', 'Stonebridge', 'Sudley', 'Thornhill', 'Tithebarn', 'Townsend', 'Underley',
  'Vale', 'Waterloo', 'Wellbrook', 'Westcliffe', 'Whitegate', 'Willowbank', 'Windmill', 'Woodchurch', 'Woolbrook', 'Wykeham',
  'Yewtree', 'Ashbrook', 'Bramley', 'Coldstream',
]

/** Street names, unique within a city, in a random order fixed by the seed. */
export function streetNames(rng: Random, count: number): string[] {
  const names: string[] = []
  for (const stem of STEMS) {
    for (const ending of ENDINGS) {
      for (const suffix of SUFFIXES) names.push(`${stem}${ending} ${suffix}`)
    }
  }
  rng.shuffle(names)
  if (count <= names.length) return names.slice(0, count)
  // Beyond ~20,000 streets, number the repeats as councils do with "Second Avenue".
  const out = names.slice()
  for (let i = names.length; i < count; i++) out.push(`${names[i % names.length]} ${Math.floor(i / names.length) + 1}`)
  return out
}

export function wardNames(rng: Random, count: number): string[] {
  const words = rng.shuffle(WARD_WORDS.slice())
  return Array.from({ length: count }, (_, i) => (i < words.length ? words[i]! : `${words[i % words.length]} ${Math.floor(i / words.length) + 1}`))
}

/** Letters allowed in the last two characters of a UK postcode (no C, I, K, M, O or V). */
export const POSTCODE_UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ'

export const FIRST_NAMES = ['Alex', 'Amira', 'Ben', 'Chloe', 'Daniel', 'Emma', 'Fatima', 'George', 'Grace', 'Harry', 'Isla', 'Jack', 'Jade', 'Kai', 'Leah', 'Liam', 'Maya', 'Noah', 'Olivia', 'Priya', 'Ryan', 'Sophie', 'Tom', 'Zara']
export const LAST_NAMES = ['Ahmed', 'Brown', 'Clarke', 'Davies', 'Evans', 'Green', 'Hughes', 'Jones', 'Kaur', 'Khan', 'Lewis', 'Murphy', 'Nguyen', 'Owen', 'Patel', 'Roberts', 'Smith', 'Taylor', 'Walsh', 'Williams', 'Wilson', 'Wright']
