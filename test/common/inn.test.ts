import { test } from 'node:test';
import assert from 'node:assert/strict';
import { innProblem, legalEntityInnOf } from '../../common/inn.ts';

test('INNs with the right check digits pass: 10 digits for a company, 12 for a person', () => {
  // published INNs of well-known legal entities (Sberbank, Rosneft' Moscow office) and a 12-digit individual's
  for (const inn of ['7707083893', '7706107510', '500100732259']) assert.equal(innProblem(inn), null, inn);
  assert.equal(legalEntityInnOf('770708389'), '7707083893');
});

test('a wrong check digit, length or character is named', () => {
  assert.equal(innProblem('7707083894'), 'check_digit');
  assert.equal(innProblem('500100732258'), 'check_digit');
  assert.equal(innProblem('500100732269'), 'check_digit', 'the eleventh digit is checked too');
  assert.equal(innProblem('77070838'), 'wrong_length');
  assert.equal(innProblem('77070838931'), 'wrong_length');
  assert.equal(innProblem('77070838 3'), 'not_digits');
  assert.equal(innProblem(''), 'not_digits');
  // every one-digit change of a valid company INN's body is caught unless it keeps the weighted sum's residue
  let caught = 0;
  for (let position = 0; position < 9; position += 1) {
    for (let digit = 0; digit <= 9; digit += 1) {
      const inn = '7707083893';
      if (Number(inn[position]) === digit) continue;
      const changed = `${inn.slice(0, position)}${digit}${inn.slice(position + 1)}`;
      if (innProblem(changed) === 'check_digit') caught += 1;
    }
  }
  assert.ok(caught >= 70, `${caught} of 81 single-digit changes caught`);
});
