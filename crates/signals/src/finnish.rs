//! Finnish: base forms for tracker matching, stop words, questions and
//! action items.
//!
//! # Base forms
//! Finnish inflects names and nouns with endings ("Salesforcen",
//! "HubSpotiin", "hinnoittelusta", "alennuksen"), so a tracker written in its
//! base form must meet its inflected forms. Tracker terms are a closed
//! vocabulary, so a transcript word is brought back to a tracker word, not to a
//! dictionary lemma ([`Vocabulary::lemma`]), by two routes:
//!
//! 1. **Endings.** The word is a tracker word plus a Finnish ending: an optional
//!    connecting vowel (`i`, `e`: "Flexport-ista"), a case or number ending
//!    (`n`, `a`, `ssa`, `sta`, `lla`, `lle`, `ksi`, illative `Vn`/`hVn`/`seen`,
//!    plural `t`, `ja`, `ihin`, …), a possessive suffix and a clitic (`-kin`,
//!    `-ko`). Nouns in `-us`/`-ys`/`-os` change stem before most endings
//!    ("alennus" → "alennuksen"), `-nen` becomes `-se-`, and `-in` becomes `-ime-`:
//!    those stems are tried too. This is what reaches foreign names, which no
//!    Finnish stemmer knows.
//! 2. **Snowball.** The Finnish Snowball stemmer (`rust-stemmers`) stems both
//!    sides; equal stems meet. It catches native forms the ending list misses.
//!
//! Why both, and why not Voikko: `docs/signals.md`, "Finnish: stemmer
//! comparison".

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};

/// Tracker words are not extended with endings below this many letters
/// ("ala" + "n" would meet too much).
const MIN_BASE_CHARS: usize = 3;

const VOWELS: &[char] = &['a', 'e', 'i', 'o', 'u', 'y', 'ä', 'ö'];

/// Case and number endings, after the stem (and its connecting vowel).
const CASES: &[&str] = &[
    "n", "a", "ä", "ta", "tä", "tta", "ttä", "na", "nä", "ksi", "ssa", "ssä", "sta", "stä", "lla", "llä",
    "lta", "ltä", "lle", "t", "en", "in", "den", "tten", "jen", "iden", "itten", "ja", "jä", "ita", "itä",
    "ihin", "seen", "siin", "ne", "ine", "ineen", "tse", "iksi", "issa", "issä", "ista", "istä", "illa",
    "illä", "ilta", "iltä", "ille", "ina", "inä", "it",
];

/// Possessive suffixes.
const POSSESSIVES: &[&str] = &["ni", "si", "mme", "nne", "nsa", "nsä", "an", "än", "en"];

/// Clitics, longest first.
const CLITICS: &[&str] = &["kaan", "kään", "kin", "han", "hän", "ko", "kö", "pa", "pä", "s"];

/// Whether `rest` is a case ending, optionally after a connecting vowel, or
/// an illative that lengthens the stem's last vowel (`zoho` + `on`).
fn is_case(rest: &str, last_of_base: Option<char>) -> bool {
    let case = |r: &str| {
        CASES.contains(&r) || {
            // Illative: the last vowel again + n ("zohoon", "salesforceen"),
            // or h + vowel + n ("maahan", "työhön").
            let mut chars = r.chars();
            match (chars.next(), chars.next(), chars.next(), chars.next()) {
                (Some(v), Some('n'), None, None) => VOWELS.contains(&v) && Some(v) == last_of_base,
                (Some('h'), Some(v), Some('n'), None) => VOWELS.contains(&v),
                _ => false,
            }
        }
    };
    case(rest) || ["i", "e"].iter().any(|c| rest.strip_prefix(c).is_some_and(|r| !r.is_empty() && case(r)))
}

/// Whether `rest`, what follows a tracker word inside a transcript word, is
/// a Finnish ending: [case] [possessive] [clitic], at least one of them.
pub(crate) fn is_ending(rest: &str, last_of_base: Option<char>) -> bool {
    if rest.is_empty() {
        return false;
    }
    let without_clitic =
        std::iter::once(rest).chain(CLITICS.iter().filter_map(|c| rest.strip_suffix(c))).collect::<Vec<_>>();
    without_clitic.into_iter().any(|r| {
        std::iter::once(r).chain(POSSESSIVES.iter().filter_map(|p| r.strip_suffix(p))).any(|case| {
            // Nothing left: the clitic or possessive was the whole ending
            // ("hubspotkin"); a possessive may also stand on a vowel stem.
            // A possessive may stand on the bare stem ("hubspotimme") or
            // after a connecting vowel ("sopimuksemme").
            let bare = case.is_empty() || case == "e" || case == "i";
            (bare && case.len() < rest.len()) || is_case(case, last_of_base)
        })
    })
}

/// The stems a base form takes before endings: itself, and for nouns in
/// `-us`/`-ys`/`-os`/`-ös`/`-is`, `-nen` and `-in` their changed stems
/// ("alennus" → "alennuks"+"en"; "virtanen" → "virtas"+"en"; "puhelin" →
/// "puhelim"+"en"). Changed stems need an ending that starts with a vowel.
fn stems(base: &str) -> Vec<(String, bool)> {
    let mut out = vec![(base.to_owned(), false)];
    for (tail, replacement) in [
        ("us", "uks"),
        ("ys", "yks"),
        ("os", "oks"),
        ("ös", "öks"),
        ("is", "iks"),
        ("nen", "s"),
        ("in", "im"),
    ] {
        if let Some(head) = base.strip_suffix(tail)
            && head.chars().count() >= 2
        {
            out.push((format!("{head}{replacement}"), true));
        }
    }
    out
}

/// The tracker words of a trackers file, ready to receive Finnish words.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vocabulary {
    /// Each stem a tracker word takes, with the word and whether the stem
    /// needs a vowel-initial ending.
    stems: HashMap<String, Vec<(String, bool)>>,
    /// Snowball stem → tracker word (the longest, when two share one).
    snowball: HashMap<String, String>,
    words: HashSet<String>,
}

impl Vocabulary {
    /// The vocabulary of tracker words (lowercase word keys).
    pub(crate) fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let stemmer = Stemmer::create(Algorithm::Finnish);
        let mut v = Vocabulary::default();
        for word in words {
            if !v.words.insert(word.to_owned()) {
                continue;
            }
            if word.chars().count() >= MIN_BASE_CHARS && !word.chars().any(|c| c.is_ascii_digit()) {
                for (stem, changed) in stems(word) {
                    v.stems.entry(stem).or_default().push((word.to_owned(), changed));
                }
                let snow = stemmer.stem(word).into_owned();
                if snow.chars().count() >= MIN_BASE_CHARS {
                    let slot = v.snowball.entry(snow).or_default();
                    if word.len() > slot.len() {
                        *slot = word.to_owned();
                    }
                }
            }
        }
        v
    }

    /// The tracker word a transcript word (its lowercase key) is a form of,
    /// or the key itself.
    pub(crate) fn lemma<'a>(&self, key: &'a str) -> Cow<'a, str> {
        if self.words.contains(key) {
            return Cow::Borrowed(key);
        }
        // The longest stem that leaves a Finnish ending.
        let mut best: Option<&str> = None;
        for (at, _) in key.char_indices().skip(MIN_BASE_CHARS - 1) {
            let (stem, rest) = key.split_at(at);
            let Some(bases) = self.stems.get(stem) else { continue };
            for (word, changed) in bases {
                let vowel_first = rest.starts_with(VOWELS);
                if (!changed || vowel_first)
                    && is_ending(rest, stem.chars().last())
                    && best.is_none_or(|b| word.len() > b.len())
                {
                    best = Some(word);
                }
            }
        }
        if let Some(word) = best {
            return Cow::Owned(word.to_owned());
        }
        if key.chars().count() >= MIN_BASE_CHARS && !key.chars().any(|c| c.is_ascii_digit()) {
            let stemmer = Stemmer::create(Algorithm::Finnish);
            if let Some(word) = self.snowball.get(stemmer.stem(key).as_ref()) {
                return Cow::Owned(word.clone());
            }
        }
        Cow::Borrowed(key)
    }
}

/// Words that may open a question without changing it ("no", "entä").
const LEAD_INS: &[&str] =
    &["no", "entä", "entäs", "ja", "mutta", "niin", "okei", "ok", "siis", "eli", "joo", "nii", "tota"];

/// Interrogative words.
const QUESTION_WORDS: &[&str] = &[
    "mikä",
    "mitä",
    "minkä",
    "missä",
    "mistä",
    "mihin",
    "millä",
    "miltä",
    "mille",
    "minä",
    "miksi",
    "miten",
    "kuinka",
    "milloin",
    "kuka",
    "kenen",
    "kenelle",
    "keneltä",
    "ketä",
    "ketkä",
    "keitä",
    "kumpi",
    "kumman",
    "kumpaa",
    "millainen",
    "millaista",
    "millaisen",
    "millaisia",
    "montako",
    "paljonko",
    "kauanko",
    "kuinka",
    "mikäs",
    "mitäs",
    "mites",
    "miksei",
];

/// Words that end in `-ko`/`-kö` without asking.
const NOT_CLITIC: &[&str] = &[
    "pakko",
    "joukko",
    "lakko",
    "tukko",
    "kokko",
    "heikko",
    "lokko",
    "kauko",
    "jakso",
    "ruokko",
    "sukko",
    "nukko",
    "hukko",
    "verkko",
    "pankko",
    "märkä",
    "taulukko",
    "kaukko",
    "tuikko",
    "kirkko",
    "pullonkaulakko",
    "lukko",
    "kaiutinverkko",
    "valikko",
    "aikataulukko",
    "sarakko",
    "risteykko",
    "kärkkö",
    "säkkö",
    "tyttö",
    "pöllö",
];

/// Whether a word carries the question clitic `-ko`/`-kö` ("onko",
/// "sopiiko", "voisitteko", "onkohan").
fn has_question_clitic(token: &str) -> bool {
    let core = ["han", "hän", "s", "pa", "pä"].iter().find_map(|c| token.strip_suffix(c)).unwrap_or(token);
    let core = if core.ends_with("ko") || core.ends_with("kö") { core } else { token };
    (core.ends_with("ko") || core.ends_with("kö"))
        && core.chars().count() >= 4
        && !NOT_CLITIC.contains(&core)
        && !NOT_CLITIC.contains(&token)
}

/// Whether a Finnish sentence is a question: a `?`, or (when the transcriber
/// left it out) a question word or a `-ko`/`-kö` verb at its start.
pub(crate) fn is_question(last_written: Option<&str>, tokens: &[&str]) -> bool {
    let Some(last) = last_written else { return false };
    if crate::text::asks(last) {
        return true;
    }
    let tokens = crate::text::after_lead_ins(tokens, LEAD_INS);
    let Some(&first) = tokens.first() else { return false };
    // A lone word ("joo", "selvä") is not asked without a question mark.
    if tokens.len() < 2 {
        return false;
    }
    QUESTION_WORDS.contains(&first) || has_question_clitic(first)
}

/// First-person commitments and "let's" forms that make a next step
/// ("lähetän", "sovitaan", "palaan asiaan").
const COMMITMENTS: &[&str] = &[
    "lähetän",
    "lähetämme",
    "laitan",
    "laitamme",
    "soitan",
    "soitamme",
    "varaan",
    "varaamme",
    "sovitaan",
    "palaan",
    "palaamme",
    "järjestän",
    "järjestämme",
    "valmistelen",
    "valmistelemme",
    "toimitan",
    "toimitamme",
    "tarkistan",
    "tarkistamme",
    "selvitän",
    "selvitämme",
    "katsotaan",
    "pidetään",
    "käydään",
    "buukkaan",
    "kirjoitan",
    "jaan",
    "hoidan",
    "hoidamme",
    "varmistan",
    "varmistamme",
    "päivitän",
    "kutsun",
    "kutsumme",
    "ilmoitan",
    "ilmoitamme",
    "vahvistan",
    "vahvistamme",
    "teen",
    "teemme",
    "tehdään",
    "otan",
    "otamme",
    "pyydän",
    "välitän",
    "kokoan",
    "sovin",
    "sovimme",
    "lupaan",
    "esittelen",
    "näytän",
    "näytämme",
    "aloitetaan",
    "aloitan",
    "aloitamme",
    "palataan",
    "laitetaan",
    "lähetetään",
    "varataan",
    "buukataan",
    "järjestetään",
];

/// Words that negate or make conditional what follows.
const NEGATIONS: &[&str] = &["en", "emme", "ei", "älä", "älkää", "ette", "et"];
pub(crate) const CONDITIONALS: &[&str] = &["jos", "mikäli", "jollei", "ellei", "jotta"];

/// Whether a Finnish clause (its lowercase tokens) commits to a next step.
pub(crate) fn is_action_item(tokens: &[&str], in_question: bool) -> bool {
    if in_question || tokens.iter().any(|t| CONDITIONALS.contains(t)) {
        return false;
    }
    tokens.iter().enumerate().any(|(i, t)| {
        // "lähetänkin", "sovitaanko" (a question, caught above when it has
        // its mark) ...
        let core = ["kin", "han", "hän"].iter().find_map(|c| t.strip_suffix(c)).unwrap_or(t);
        COMMITMENTS.contains(&core) && !(i > 0 && NEGATIONS.contains(&tokens[i - 1]))
    })
}

/// Finnish function words, pronouns, fillers and number words: never a
/// "keyword customers use" on their own.
pub(crate) const STOP_WORDS: &[&str] = &[
    "aika",
    "ainakin",
    "aina",
    "alla",
    "asia",
    "asiaa",
    "asiat",
    "edes",
    "ehkä",
    "ei",
    "eikä",
    "eli",
    "ellei",
    "emme",
    "en",
    "enemmän",
    "ennen",
    "entä",
    "et",
    "ette",
    "että",
    "hän",
    "häntä",
    "he",
    "heidän",
    "heitä",
    "hetki",
    "hieman",
    "hyvin",
    "hyvä",
    "hyvää",
    "ihan",
    "itse",
    "ja",
    "jo",
    "joka",
    "jolla",
    "jos",
    "joo",
    "jossa",
    "josta",
    "jota",
    "joten",
    "juuri",
    "jälkeen",
    "kaikki",
    "kanssa",
    "kautta",
    "kerran",
    "kiitos",
    "koska",
    "kuin",
    "kuinka",
    "kuitenkin",
    "kun",
    "kyllä",
    "lisäksi",
    "me",
    "meidän",
    "meillä",
    "meille",
    "meitä",
    "melko",
    "mikä",
    "miksi",
    "milloin",
    "minä",
    "minun",
    "minulla",
    "minulle",
    "minua",
    "missä",
    "mistä",
    "mitä",
    "miten",
    "mukaan",
    "mutta",
    "myös",
    "ne",
    "niin",
    "niitä",
    "nyt",
    "no",
    "noin",
    "nämä",
    "näin",
    "ole",
    "olemme",
    "olen",
    "olet",
    "olette",
    "oli",
    "olisi",
    "olivat",
    "olla",
    "ollut",
    "on",
    "onko",
    "ovat",
    "paljon",
    "pitää",
    "pitäisi",
    "se",
    "sen",
    "sitä",
    "siis",
    "silloin",
    "sillä",
    "siinä",
    "siitä",
    "sinä",
    "sinun",
    "sitten",
    "suoraan",
    "tai",
    "taas",
    "tähän",
    "tämä",
    "tämän",
    "tässä",
    "tästä",
    "tätä",
    "te",
    "teidän",
    "teillä",
    "teille",
    "teitä",
    "todella",
    "tosi",
    "tota",
    "totta",
    "tuo",
    "tuota",
    "vaan",
    "vai",
    "vain",
    "vielä",
    "voi",
    "voimme",
    "voin",
    "voisi",
    "voisimme",
    "voitte",
    "yli",
    "okei",
    "selvä",
    "niinku",
    "öö",
    "hmm",
    "joku",
    "jotain",
    "mitään",
    "kaksi",
    "kolme",
    "neljä",
    "viisi",
    "kuusi",
    "seitsemän",
    "kahdeksan",
    "yhdeksän",
    "kymmenen",
    "sata",
    "tuhat",
    "yksi",
    "yhden",
    "kahden",
    "kolmen",
    "viikko",
    "viikon",
    "päivä",
    "päivää",
    "vuosi",
    "vuoden",
    "tänään",
    "huomenna",
    "eilen",
    "hei",
    "moi",
    "kiva",
    "ihan",
    "aivan",
    "hyvä",
    "juu",
    "joopa",
    "nii",
    "niinpä",
    "mä",
    "sä",
    "mun",
    "sun",
    "me",
    "meil",
    "teil",
    "liian",
    "eniten",
    "vähän",
    "kovin",
    "erittäin",
    "vähemmän",
    "melkein",
    "lähes",
    "jopa",
    "edelleen",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::new([
            "salesforce",
            "hubspot",
            "pipedrive",
            "crowdstrike",
            "flexport",
            "zoho",
            "hinnoittelu",
            "alennus",
            "sopimus",
            "integraatio",
            "tietoturva",
            "dynamics",
            "virtanen",
            "puhelin",
        ])
    }

    #[test]
    fn inflected_tracker_words_meet_their_base_form() {
        let v = vocab();
        for (word, base) in [
            ("salesforcen", "salesforce"),
            ("salesforcella", "salesforce"),
            ("salesforceen", "salesforce"),
            ("hubspotiin", "hubspot"),
            ("hubspotista", "hubspot"),
            ("hubspotin", "hubspot"),
            ("hubspotkin", "hubspot"),
            ("pipedrivesta", "pipedrive"),
            ("crowdstrikelle", "crowdstrike"),
            ("flexportilla", "flexport"),
            ("zohoon", "zoho"),
            ("zohosta", "zoho"),
            ("hinnoittelusta", "hinnoittelu"),
            ("alennusta", "alennus"),
            ("alennuksen", "alennus"),
            ("alennuksia", "alennus"),
            ("sopimukseen", "sopimus"),
            ("sopimuksemme", "sopimus"),
            ("integraatioita", "integraatio"),
            ("tietoturvasta", "tietoturva"),
            ("tietoturvaan", "tietoturva"),
            ("dynamicsin", "dynamics"),
            ("virtaselle", "virtanen"),
            ("puhelimella", "puhelin"),
            ("hubspotko", "hubspot"),
        ] {
            assert_eq!(v.lemma(word), base, "{word}");
        }
    }

    #[test]
    fn other_words_are_left_alone() {
        let v = vocab();
        for word in
            ["salesforcenhallinta", "hinnasto", "zohokarhu", "alennu", "sopimu", "hinnoittelija", "hub"]
        {
            assert_eq!(v.lemma(word), word, "{word}");
        }
    }

    #[test]
    fn questions_by_mark_word_or_clitic() {
        let q = |s: &str| {
            let tokens: Vec<String> =
                s.split_whitespace().map(crate::text::token).filter(|t| !t.is_empty()).collect();
            let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
            is_question(s.split_whitespace().last(), &tokens)
        };
        assert!(q("Käyttekö nyt Salesforcea?"));
        assert!(q("Onko teillä budjetti tälle vuodelle"));
        assert!(q("No mikä on teidän aikataulu"));
        assert!(q("Sopisiko torstai teille"));
        assert!(q("Kuinka monta käyttäjää teillä on."));
        assert!(!q("Meidän on pakko säästää."));
        assert!(!q("Se kuulostaa hyvältä."));
        assert!(!q("Joo."));
    }

    #[test]
    fn commitments_and_their_negations() {
        let a = |s: &str, question: bool| {
            let tokens: Vec<String> =
                s.split_whitespace().map(crate::text::token).filter(|t| !t.is_empty()).collect();
            let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
            is_action_item(&tokens, question)
        };
        assert!(a("Lähetän teille tarjouksen huomenna.", false));
        assert!(a("Sovitaan demo ensi viikolle.", false));
        assert!(a("Palaan asiaan perjantaina.", false));
        assert!(!a("En lähetä mitään ennen sopimusta.", false));
        assert!(!a("Jos allekirjoitatte, lähetän laitteet.", false));
        assert!(!a("Lähetänkö tarjouksen?", true));
        assert!(!a("Hinta on liian korkea.", false));
    }
}
