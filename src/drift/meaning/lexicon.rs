//! Word lists the meaning rules read: negation and hedging cues, yes/no words, function words,
//! number words, units, dates, and the classes of words whose swap changes a fact (antonyms,
//! colours, people, quantifiers, directions). English only; every list is lowercase and is
//! matched against canonical tokens (contractions expanded, see [`super::canon`]).

use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};
use std::sync::LazyLock;

/// Words that negate what follows (after contraction expansion: `isn't` → `is not`).
pub(crate) const NEGATIONS: &[&str] = &[
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "nowhere", "without",
    "non", "cannot", "nope",
];

/// Yes-like first words of an answer.
pub(crate) const YES: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "correct",
    "true",
    "right",
    "absolutely",
    "indeed",
    "affirmative",
];

/// No-like first words of an answer.
pub(crate) const NO: &[&str] = &["no", "nope", "incorrect", "false", "wrong", "nah"];

/// Hedging cues, one word.
pub(crate) const HEDGES: &[&str] = &[
    "may",
    "might",
    "could",
    "possibly",
    "perhaps",
    "probably",
    "likely",
    "unlikely",
    "maybe",
    "seems",
    "seem",
    "appears",
    "apparently",
    "approximately",
    "roughly",
    "nearly",
    "almost",
    "typically",
    "usually",
    "generally",
    "often",
    "sometimes",
    "occasionally",
    "presumably",
    "supposedly",
    "suggests",
    "uncertain",
    "unclear",
    "estimated",
    "potentially",
    "arguably",
    "~",
    "≈",
];

/// Hedging cues of two words (`i think`).
pub(crate) const HEDGE_PAIRS: &[(&str, &str)] = &[
    ("i", "think"),
    ("i", "believe"),
    ("not", "sure"),
    ("it", "depends"),
    ("as", "far"),
    ("in", "general"),
];

/// Function words: articles, pronouns, auxiliaries, prepositions, conjunctions. They carry
/// structure, not content: name detection skips them, and they never count as content words.
pub(crate) const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "if", "then", "so", "of", "to", "in", "on", "at", "by",
    "for", "with", "from", "as", "into", "onto", "about", "is", "are", "was", "were", "be", "been",
    "being", "am", "do", "does", "did", "have", "has", "had", "will", "would", "shall", "should",
    "can", "could", "may", "might", "must", "it", "its", "this", "that", "these", "those", "there",
    "here", "i", "you", "he", "she", "we", "they", "me", "him", "her", "us", "them", "my", "your",
    "his", "our", "their", "what", "which", "who", "whom", "whose", "when", "where", "why", "how",
    "also", "just", "very", "too", "'s", "s", "than", "because", "while", "although", "though",
    "yet", "both", "either", "each", "such", "only", "own", "same", "other", "another", "any",
    "some", "all", "up", "out", "off", "over", "again", "further", "once", "let", "per", "via",
    "etc", "e", "g", "ie", "eg", "one",
];

/// Capitalised words that open sentences without naming anything.
pub(crate) const OPENERS: &[&str] = &[
    "sure",
    "certainly",
    "however",
    "please",
    "note",
    "unfortunately",
    "overall",
    "here",
    "hello",
    "hi",
    "thanks",
    "thank",
    "okay",
    "ok",
    "well",
    "first",
    "second",
    "third",
    "finally",
    "next",
    "last",
    "then",
    "also",
    "additionally",
    "moreover",
    "furthermore",
    "instead",
    "otherwise",
    "therefore",
    "thus",
    "today",
    "yesterday",
    "tomorrow",
    "step",
    "answer",
    "summary",
    "example",
    "important",
    "tip",
    "warning",
    "great",
    "good",
    "of",
    "course",
    "based",
    "according",
    "in",
    "to",
    "for",
    "unlike",
];

/// Words that move freely in a sentence without changing who does what (adverbs of time,
/// frequency, manner of speaking). Word-order rules ignore them.
pub(crate) const MOVABLE: &[&str] = &[
    "yesterday",
    "today",
    "tomorrow",
    "now",
    "then",
    "also",
    "usually",
    "often",
    "always",
    "never",
    "sometimes",
    "currently",
    "recently",
    "already",
    "still",
    "however",
    "therefore",
    "generally",
    "typically",
    "actually",
    "really",
    "certainly",
    "probably",
    "here",
    "there",
];

/// Number words that are only numbers (`one` is also a pronoun, so it is left alone).
pub(crate) const NUMBER_WORDS: &[(&str, u32)] = &[
    ("zero", 0),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// Units, by dimension: `(canonical name, spellings)`. A unit's spellings are the same unit.
pub(crate) const UNITS: &[(&str, &[&str])] = &[
    ("second", &["second", "seconds", "sec", "secs"]),
    ("minute", &["minute", "minutes", "min", "mins"]),
    ("hour", &["hour", "hours", "hr", "hrs"]),
    ("day", &["day", "days"]),
    ("week", &["week", "weeks", "wk", "wks"]),
    ("month", &["month", "months"]),
    ("year", &["year", "years", "yr", "yrs"]),
    (
        "millimetre",
        &[
            "mm",
            "millimeter",
            "millimeters",
            "millimetre",
            "millimetres",
        ],
    ),
    (
        "centimetre",
        &[
            "cm",
            "centimeter",
            "centimeters",
            "centimetre",
            "centimetres",
        ],
    ),
    ("metre", &["meter", "meters", "metre", "metres"]),
    (
        "kilometre",
        &["km", "kilometer", "kilometers", "kilometre", "kilometres"],
    ),
    ("inch", &["inch", "inches"]),
    ("foot", &["foot", "feet", "ft"]),
    ("yard", &["yard", "yards"]),
    ("mile", &["mile", "miles", "mi"]),
    ("gram", &["g", "gram", "grams"]),
    (
        "kilogram",
        &["kg", "kilogram", "kilograms", "kilo", "kilos"],
    ),
    ("pound", &["lb", "lbs", "pound", "pounds"]),
    ("ounce", &["oz", "ounce", "ounces"]),
    ("litre", &["l", "liter", "liters", "litre", "litres"]),
    (
        "millilitre",
        &[
            "ml",
            "milliliter",
            "milliliters",
            "millilitre",
            "millilitres",
        ],
    ),
    ("gallon", &["gallon", "gallons"]),
    ("celsius", &["celsius", "c"]),
    ("fahrenheit", &["fahrenheit", "f"]),
    ("percent", &["%", "percent", "per cent"]),
    ("dollar", &["$", "dollar", "dollars", "usd"]),
    ("euro", &["€", "euro", "euros", "eur"]),
    ("pound sterling", &["£", "gbp"]),
    ("yen", &["¥", "yen", "jpy"]),
    ("cent", &["cent", "cents"]),
    ("byte", &["byte", "bytes"]),
    ("kilobyte", &["kb", "kilobyte", "kilobytes"]),
    ("megabyte", &["mb", "megabyte", "megabytes"]),
    ("gigabyte", &["gb", "gigabyte", "gigabytes"]),
    ("terabyte", &["tb", "terabyte", "terabytes"]),
    ("watt", &["w", "watt", "watts"]),
    ("kilowatt", &["kw", "kilowatt", "kilowatts"]),
    ("volt", &["v", "volt", "volts"]),
    ("mph", &["mph"]),
    ("kph", &["kph", "kmh"]),
    ("calorie", &["calorie", "calories", "kcal", "cal"]),
    ("mg", &["mg", "milligram", "milligrams"]),
];

/// Single-letter unit spellings count only right after a number (`5 g`, not "plan g").
pub(crate) fn unit_needs_number(spelling: &str) -> bool {
    spelling.chars().count() <= 2 && spelling.chars().all(|c| c.is_ascii_alphabetic())
}

/// Words that scale a number (`seven hundred`).
pub(crate) const SCALES: &[&str] = &[
    "hundred",
    "hundreds",
    "thousand",
    "thousands",
    "million",
    "millions",
    "billion",
    "billions",
    "trillion",
    "dozen",
    "dozens",
    "k",
    "m",
    "bn",
];

/// Dates and times of day: a change between two of these is a changed date.
pub(crate) const DATE_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "weekday",
    "weekend",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "today",
    "tomorrow",
    "yesterday",
    "tonight",
    "morning",
    "afternoon",
    "evening",
    "night",
    "noon",
    "midnight",
    "spring",
    "summer",
    "autumn",
    "winter",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "annually",
    "hourly",
];

/// Word classes whose groups exclude each other: swapping a word of one group for a word of
/// another group of the same class changes a fact (`red` → `blue`, `all` → `some`). Words of
/// one group are synonyms (`all`, `every`, `each`). `(what the class is called in reasons,
/// groups)`.
pub(crate) const CLASSES: &[(&str, &[&[&str]])] = &[
    (
        "colour",
        &[
            &["red"],
            &["blue"],
            &["green"],
            &["yellow"],
            &["black"],
            &["white"],
            &["orange"],
            &["purple", "violet"],
            &["pink"],
            &["brown"],
            &["gray", "grey"],
            &["silver"],
            &["gold", "golden"],
            &["beige", "tan"],
        ],
    ),
    (
        "person",
        &[
            &["man", "men", "gentleman", "gentlemen", "guy", "guys"],
            &["woman", "women", "lady", "ladies"],
            &["boy", "boys"],
            &["girl", "girls"],
            &["he", "him", "his", "himself"],
            &["she", "her", "hers", "herself"],
            &["male", "males"],
            &["female", "females"],
            &["father", "dad", "fathers"],
            &["mother", "mom", "mum", "mothers"],
            &["son", "sons"],
            &["daughter", "daughters"],
            &["brother", "brothers"],
            &["sister", "sisters"],
            &["husband"],
            &["wife"],
            &["king"],
            &["queen"],
            &["mr"],
            &["mrs", "ms"],
            &["uncle"],
            &["aunt"],
            &["child", "children", "kid", "kids"],
            &["adult", "adults"],
            &["baby", "babies", "infant"],
            &["teenager", "teenagers", "teen", "teens"],
        ],
    ),
    (
        "quantity",
        &[
            &[
                "all",
                "every",
                "each",
                "everyone",
                "everybody",
                "everything",
                "entire",
            ],
            &[
                "some",
                "several",
                "certain",
                "someone",
                "somebody",
                "something",
            ],
            &["none", "nobody", "nothing"],
            &["most", "majority"],
            &["many", "lots", "numerous"],
            &["few", "minority"],
            &["half"],
            &["both"],
            &["single", "one"],
            &["multiple"],
            &["only", "just"],
        ],
    ),
    (
        "frequency",
        &[
            &["always", "constantly"],
            &["never"],
            &["sometimes", "occasionally"],
            &["often", "frequently"],
            &["rarely", "seldom"],
            &["usually", "typically", "generally", "normally"],
            &["once"],
            &["twice"],
        ],
    ),
    (
        "modality",
        &[
            &["must", "required"],
            &["should", "ought"],
            &["may", "might", "can", "could"],
        ],
    ),
    (
        "direction",
        &[
            &["north", "northern"],
            &["south", "southern"],
            &["east", "eastern"],
            &["west", "western"],
            &["left"],
            &["right"],
            &["up", "upward", "upwards"],
            &["down", "downward", "downwards"],
            &["above", "over"],
            &["below", "under", "beneath", "underneath"],
            &["inside", "indoors", "within"],
            &["outside", "outdoors"],
            &["front"],
            &["back", "behind"],
            &["before", "prior"],
            &["after", "following"],
            &["top"],
            &["bottom"],
            &["upstairs"],
            &["downstairs"],
        ],
    ),
    (
        "animal",
        &[
            &["dog", "dogs", "puppy", "puppies"],
            &["cat", "cats", "kitten", "kittens"],
            &["horse", "horses"],
            &["bird", "birds"],
            &["cow", "cows"],
            &["sheep"],
            &["pig", "pigs"],
            &["fish"],
            &["mouse", "mice"],
            &["rabbit", "rabbits"],
            &["lion", "lions"],
            &["tiger", "tigers"],
            &["bear", "bears"],
            &["duck", "ducks"],
            &["chicken", "chickens"],
            &["goat", "goats"],
        ],
    ),
];

/// Antonym pairs (either order). Stems are compared, so `increase` also covers `increases`.
pub(crate) const ANTONYMS: &[(&str, &str)] = &[
    ("true", "false"),
    ("am", "pm"),
    ("yes", "no"),
    ("good", "bad"),
    ("better", "worse"),
    ("best", "worst"),
    ("high", "low"),
    ("higher", "lower"),
    ("highest", "lowest"),
    ("large", "small"),
    ("larger", "smaller"),
    ("largest", "smallest"),
    ("big", "small"),
    ("big", "little"),
    ("bigger", "smaller"),
    ("long", "short"),
    ("longer", "shorter"),
    ("tall", "short"),
    ("fast", "slow"),
    ("faster", "slower"),
    ("quick", "slow"),
    ("hot", "cold"),
    ("warm", "cold"),
    ("warm", "cool"),
    ("heavy", "light"),
    ("cheap", "expensive"),
    ("cheaper", "expensive"),
    ("inexpensive", "expensive"),
    ("early", "late"),
    ("earlier", "later"),
    ("old", "new"),
    ("old", "young"),
    ("older", "younger"),
    ("new", "used"),
    ("open", "close"),
    ("open", "closed"),
    ("opened", "closed"),
    ("start", "end"),
    ("start", "stop"),
    ("start", "finish"),
    ("begin", "end"),
    ("first", "last"),
    ("increase", "decrease"),
    ("increase", "reduce"),
    ("rise", "fall"),
    ("rose", "fell"),
    ("gain", "lose"),
    ("gained", "lost"),
    ("win", "lose"),
    ("won", "lost"),
    ("win", "loss"),
    ("accept", "reject"),
    ("approve", "reject"),
    ("accepted", "rejected"),
    ("allow", "forbid"),
    ("allow", "prohibit"),
    ("allowed", "forbidden"),
    ("allowed", "prohibited"),
    ("permitted", "prohibited"),
    ("include", "exclude"),
    ("included", "excluded"),
    ("inclusive", "exclusive"),
    ("add", "remove"),
    ("added", "removed"),
    ("enable", "disable"),
    ("enabled", "disabled"),
    ("on", "off"),
    ("in", "out"),
    ("more", "less"),
    ("more", "fewer"),
    ("most", "least"),
    ("max", "min"),
    ("maximum", "minimum"),
    ("safe", "dangerous"),
    ("safe", "unsafe"),
    ("safe", "risky"),
    ("easy", "hard"),
    ("easy", "difficult"),
    ("simple", "complex"),
    ("happy", "sad"),
    ("happy", "unhappy"),
    ("love", "hate"),
    ("like", "dislike"),
    ("buy", "sell"),
    ("bought", "sold"),
    ("push", "pull"),
    ("arrive", "leave"),
    ("arrive", "depart"),
    ("enter", "exit"),
    ("import", "export"),
    ("input", "output"),
    ("positive", "negative"),
    ("success", "failure"),
    ("succeed", "fail"),
    ("succeeded", "failed"),
    ("pass", "fail"),
    ("passed", "failed"),
    ("valid", "invalid"),
    ("legal", "illegal"),
    ("possible", "impossible"),
    ("able", "unable"),
    ("available", "unavailable"),
    ("required", "optional"),
    ("mandatory", "optional"),
    ("public", "private"),
    ("internal", "external"),
    ("wet", "dry"),
    ("full", "empty"),
    ("rich", "poor"),
    ("strong", "weak"),
    ("stronger", "weaker"),
    ("thick", "thin"),
    ("wide", "narrow"),
    ("deep", "shallow"),
    ("near", "far"),
    ("close", "far"),
    ("light", "dark"),
    ("day", "night"),
    ("sunny", "rainy"),
    ("loud", "quiet"),
    ("clean", "dirty"),
    ("healthy", "unhealthy"),
    ("healthy", "sick"),
    ("alive", "dead"),
    ("asleep", "awake"),
    ("sleeping", "awake"),
    ("sitting", "standing"),
    ("sits", "stands"),
    ("sit", "stand"),
    ("inside", "outside"),
    ("indoors", "outdoors"),
    ("above", "below"),
    ("before", "after"),
    ("ascending", "descending"),
    ("agree", "disagree"),
    ("approve", "deny"),
    ("approved", "denied"),
    ("grant", "deny"),
    ("granted", "denied"),
    ("refund", "charge"),
    ("credit", "debit"),
    ("profit", "loss"),
    ("asc", "desc"),
    ("synchronous", "asynchronous"),
    ("sync", "async"),
    ("mutable", "immutable"),
    ("supported", "unsupported"),
    ("compatible", "incompatible"),
    ("secure", "insecure"),
    ("correct", "incorrect"),
    ("right", "wrong"),
    ("waterproof", "absorbent"),
    ("laughing", "crying"),
    ("smiling", "frowning"),
    ("running", "walking"),
    ("run", "walk"),
    ("plus", "minus"),
    ("upper", "lower"),
    ("uppercase", "lowercase"),
    ("always", "never"),
    ("everyone", "nobody"),
    ("everything", "nothing"),
    ("all", "none"),
    ("must", "may"),
    ("friend", "enemy"),
    ("winner", "loser"),
    ("teacher", "student"),
    ("doctor", "patient"),
    ("buyer", "seller"),
    ("parent", "child"),
];

/// Prefixes that negate a word (`unsafe`, `impossible`, `non-refundable`).
pub(crate) const NEGATING_PREFIXES: &[&str] = &["un", "in", "im", "il", "ir", "non", "dis"];

/// What the lists say about one word: looked up once per token (one hash), then read as flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Lex {
    flags: u16,
    /// The unit it spells ([`UNITS`]), by canonical name.
    pub(crate) unit: Option<&'static str>,
    /// Its class and group ([`CLASSES`]).
    pub(crate) class: Option<(&'static str, usize)>,
    /// Its value, for a number word ([`NUMBER_WORDS`]).
    pub(crate) number: Option<u32>,
}

/// Flags of a [`Lex`].
pub(crate) mod flag {
    /// [`super::FUNCTION_WORDS`].
    pub(crate) const FUNCTION: u16 = 1;
    /// [`super::NEGATIONS`].
    pub(crate) const NEGATION: u16 = 1 << 1;
    /// [`super::YES`].
    pub(crate) const YES: u16 = 1 << 2;
    /// [`super::NO`].
    pub(crate) const NO: u16 = 1 << 3;
    /// [`super::HEDGES`].
    pub(crate) const HEDGE: u16 = 1 << 4;
    /// [`super::OPENERS`].
    pub(crate) const OPENER: u16 = 1 << 5;
    /// [`super::MOVABLE`].
    pub(crate) const MOVABLE: u16 = 1 << 6;
    /// [`super::DATE_WORDS`], plural forms included (`mondays`, `weekends`).
    pub(crate) const DATE: u16 = 1 << 7;
    /// [`super::SCALES`].
    pub(crate) const SCALE: u16 = 1 << 8;
    /// [`super::MODALS`].
    pub(crate) const MODAL: u16 = 1 << 9;
}

impl Lex {
    /// A month's entry, for `May` inside a sentence (the word list has only the modal).
    pub(crate) fn month() -> Lex {
        Lex {
            flags: flag::DATE,
            ..Lex::default()
        }
    }

    /// Whether the word has the flag.
    pub(crate) fn has(self, f: u16) -> bool {
        self.flags & f != 0
    }
}

/// Modal verbs of possibility: `may` hedges only against an answer with none of them (`can`
/// → `may` is a rewording, `is` → `may be` a hedge).
pub(crate) const MODALS: &[&str] = &["may", "might", "could", "can"];

static LEX: LazyLock<HashMap<String, Lex>> = LazyLock::new(|| {
    let mut m: HashMap<String, Lex> = HashMap::new();
    let lists: [(&[&str], u16); 9] = [
        (FUNCTION_WORDS, flag::FUNCTION),
        (NEGATIONS, flag::NEGATION),
        (YES, flag::YES),
        (NO, flag::NO),
        (HEDGES, flag::HEDGE),
        (OPENERS, flag::OPENER),
        (MOVABLE, flag::MOVABLE),
        (SCALES, flag::SCALE),
        (MODALS, flag::MODAL),
    ];
    for (list, f) in lists {
        for w in list {
            m.entry((*w).to_string()).or_default().flags |= f;
        }
    }
    for w in DATE_WORDS {
        m.entry((*w).to_string()).or_default().flags |= flag::DATE;
        m.entry(format!("{w}s")).or_default().flags |= flag::DATE;
    }
    for (name, spellings) in UNITS {
        for w in *spellings {
            m.entry((*w).to_string())
                .or_default()
                .unit
                .get_or_insert(name);
        }
    }
    for (name, groups) in CLASSES {
        for (i, g) in groups.iter().enumerate() {
            for w in *g {
                m.entry((*w).to_string())
                    .or_default()
                    .class
                    .get_or_insert((name, i));
            }
        }
    }
    for (w, v) in NUMBER_WORDS {
        m.entry((*w).to_string()).or_default().number = Some(*v);
    }
    m
});

/// What the lists say about a word (lowercase, or a symbol).
pub(crate) fn lex(word: &str) -> Lex {
    LEX.get(word).copied().unwrap_or_default()
}

/// Whether `word` is in `list` (for short lists read rarely).
pub(crate) fn is(list: &[&str], word: &str) -> bool {
    list.contains(&word)
}

/// Antonym pairs by stem, both orders, built once.
static ANTONYM_STEMS: LazyLock<HashSet<(String, String)>> = LazyLock::new(|| {
    let mut s = HashSet::new();
    for (x, y) in ANTONYMS {
        let (x, y) = (super::canon::stem(x), super::canon::stem(y));
        s.insert((y.clone(), x.clone()));
        s.insert((x, y));
    }
    s
});

/// The class of a word and its group within the class, when it belongs to one.
pub(crate) fn class_of(word: &str) -> Option<(&'static str, usize)> {
    lex(word).class
}

/// Whether two words are antonyms (by stem, either order).
pub(crate) fn antonyms(a: &str, b: &str) -> bool {
    ANTONYM_STEMS.contains(&(super::canon::stem(a), super::canon::stem(b)))
}

/// Whether `a` is `b` with a negating prefix (`unsafe` / `safe`, `non` + `refundable`).
pub(crate) fn negated_form(a: &str, b: &str) -> bool {
    NEGATING_PREFIXES
        .iter()
        .any(|p| a.len() > p.len() + 2 && a.strip_prefix(p) == Some(b))
}
