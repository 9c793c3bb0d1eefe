/**
 * Cue phrases of the rule-based labeler, in the spirit of the CheXpert labeler (NegBio-style
 * pre- and post-mention cues). Phrases are word sequences after the labeler's normalisation
 * (lower case, hyphens split, punctuation as separate words).
 */

/** Phrases that look like a negation but assert the finding is there ("no change in the effusion"). */
export const PSEUDO_NEGATIONS = [
  'no change',
  'no interval change',
  'no significant change',
  'no significant interval change',
  'no increase',
  'no decrease',
  'no worsening',
  'not changed',
  'not significantly changed',
];

/** Uncertainty before the mention. Double negations ("cannot exclude") are matched here, first. */
export const PRE_UNCERTAIN = [
  'may represent',
  'may be',
  'might be',
  'could be',
  'could represent',
  'possible',
  'possibly',
  'cannot exclude',
  'can not exclude',
  'cannot rule out',
  'can not rule out',
  'not excluded',
  'likely',
  'probable',
  'probably',
  'suggestive of',
  'suggests',
  'concerning for',
  'suspicious for',
  'suspected',
  'questionable',
  'question of',
  'equivocal',
  'versus',
  'vs',
];

/** Uncertainty after the mention ("effusion cannot be excluded"). */
export const POST_UNCERTAIN = [
  'cannot be excluded',
  'can not be excluded',
  'not excluded',
  'is not excluded',
  'cannot be ruled out',
  'not ruled out',
  'is possible',
  'is suspected',
  'is likely',
  'is questioned',
  'versus',
  'vs',
];

export const PRE_NEGATION = [
  'no',
  'not',
  'without',
  'negative for',
  'free of',
  'clear of',
  'no evidence of',
  'no sign of',
  'no signs of',
  'absence of',
  'rather than',
  'resolution of',
  'resolved',
  'removal of',
];

export const POST_NEGATION = [
  'is not seen',
  'are not seen',
  'not seen',
  'not identified',
  'not present',
  'not visualized',
  'is absent',
  'are absent',
  'has resolved',
  'have resolved',
  'resolved',
  'no longer seen',
  'no longer present',
  'has been removed',
  'have been removed',
  'removed',
  'ruled out',
];

/** Words that end a cue's scope: a new clause starts. Sequences are matched like cues. */
export const SCOPE_TERMINATORS = [
  'but',
  'however',
  'although',
  'though',
  'whereas',
  'yet',
  'except',
  'apart',
  'aside',
  'which',
  'there',
  ';',
  ':',
  ', with',
  ', and',
];

/** How far (in words) a post-mention cue may sit after the mention it modifies. */
export const POST_CUE_WINDOW = 8;
