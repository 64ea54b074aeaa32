//! A seeded generator of Velocity templates over the whole language the renderer claims,
//! as a tree (so that a failing template can be shrunk by deleting nodes).

use std::fmt::Write as _;

/// SplitMix64: a tiny seeded generator; a crate would add nothing the test needs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// One node of a generated template.
#[derive(Debug, Clone)]
pub enum Gen {
    Text(String),
    Raw(String),
    Set(String, String),
    If(Vec<(String, Vec<Gen>)>, Option<Vec<Gen>>),
    Foreach(String, String, Vec<Gen>),
}

/// Writes the template text of nodes.
pub fn write(nodes: &[Gen], out: &mut String) {
    for node in nodes {
        match node {
            Gen::Text(text) | Gen::Raw(text) => out.push_str(text),
            Gen::Set(target, value) => {
                let _ = write!(out, "#set({target} = {value})");
            }
            Gen::If(branches, otherwise) => {
                for (i, (condition, body)) in branches.iter().enumerate() {
                    let _ = write!(
                        out,
                        "{}({condition})",
                        if i == 0 { "#if" } else { "#elseif" }
                    );
                    write(body, out);
                }
                if let Some(body) = otherwise {
                    out.push_str("#else");
                    write(body, out);
                }
                out.push_str("#end");
            }
            Gen::Foreach(variable, iterable, body) => {
                let _ = write!(out, "#foreach({variable} in {iterable})");
                write(body, out);
                out.push_str("#end");
            }
        }
    }
}

pub fn text(nodes: &[Gen]) -> String {
    let mut out = String::new();
    write(nodes, &mut out);
    out
}

/// Every template obtained by deleting one node, or replacing a block by one of its
/// bodies: the shrinker's candidates, smallest changes last.
pub fn shrink_candidates(nodes: &[Gen]) -> Vec<Vec<Gen>> {
    let mut candidates = Vec::new();
    for i in 0..nodes.len() {
        let mut without = nodes.to_vec();
        without.remove(i);
        candidates.push(without);
        let bodies: Vec<&Vec<Gen>> = match &nodes[i] {
            Gen::If(branches, otherwise) => branches
                .iter()
                .map(|(_, b)| b)
                .chain(otherwise.iter())
                .collect(),
            Gen::Foreach(_, _, body) => vec![body],
            _ => Vec::new(),
        };
        for body in &bodies {
            let mut spliced = nodes[..i].to_vec();
            spliced.extend(body.iter().cloned());
            spliced.extend(nodes[i + 1..].iter().cloned());
            candidates.push(spliced);
        }
        // Shrink inside the block.
        match &nodes[i] {
            Gen::If(branches, otherwise) => {
                for (b, (_, body)) in branches.iter().enumerate() {
                    for smaller in shrink_candidates(body) {
                        let mut branches = branches.clone();
                        branches[b].1 = smaller;
                        let mut copy = nodes.to_vec();
                        copy[i] = Gen::If(branches, otherwise.clone());
                        candidates.push(copy);
                    }
                }
                if let Some(body) = otherwise {
                    for smaller in shrink_candidates(body) {
                        let mut copy = nodes.to_vec();
                        copy[i] = Gen::If(branches.clone(), Some(smaller));
                        candidates.push(copy);
                    }
                    let mut copy = nodes.to_vec();
                    copy[i] = Gen::If(branches.clone(), None);
                    candidates.push(copy);
                }
                if branches.len() > 1 {
                    let mut copy = nodes.to_vec();
                    copy[i] = Gen::If(branches[..1].to_vec(), otherwise.clone());
                    candidates.push(copy);
                }
            }
            Gen::Foreach(variable, iterable, body) => {
                for smaller in shrink_candidates(body) {
                    let mut copy = nodes.to_vec();
                    copy[i] = Gen::Foreach(variable.clone(), iterable.clone(), smaller);
                    candidates.push(copy);
                }
            }
            _ => {}
        }
    }
    candidates
}

/// Variables templates set and read.
const VARIABLES: &[&str] = &["$a", "$b", "$c", "$d"];

/// Text between constructs: where engines differ most is whitespace and newlines next
/// to directives, so those dominate. No `[`: after a reference ending in an index
/// (`$l[0]`), Velocity 1.7's lexer stays in its reference state across text and even
/// `#set`, and a later `[` is a parse error; that quirk is not emulated. No lone `$`,
/// `#` or `\\`: a lone `$` or `#` directly before a directive or a backslash is eaten by
/// Velocity 1.7's lexer (`# #set(..)` renders nothing, `$\\\\n` renders `\\\\n`), another
/// quirk this renderer does not reproduce, nor these: `$a.b(` at the end (text there,
/// an error here), a `##` comment at the very end without a newline (sometimes a lexical
/// error there).
const TEXT: &[&str] = &[
    " ", "  ", "\n", "\n\n", " \n", "\t\n", "\r\n", "x", "{\"k\": ", "}", ",", "a b", " c\n",
    "é😀", ".", ")", "]", "$1", "#1", "100%", "a\\b", "\"", "'", "=", "-", "*", "!", "@",
];

pub struct Generator<'r> {
    rng: &'r mut Rng,
    /// Expression nesting budget.
    depth: usize,
}

impl<'r> Generator<'r> {
    pub fn new(rng: &'r mut Rng) -> Self {
        Generator { rng, depth: 0 }
    }

    pub fn template(&mut self) -> Vec<Gen> {
        // Every variable kind has a value (the shrinker deletes the ones a failure does
        // not need).
        let mut nodes: Vec<Gen> = PRELUDE
            .iter()
            .map(|(target, value)| Gen::Set((*target).to_owned(), (*value).to_owned()))
            .collect();
        let count = 1 + self.rng.below(8);
        nodes.extend(self.nodes(count, 0));
        nodes
    }

    fn nodes(&mut self, count: usize, level: usize) -> Vec<Gen> {
        (0..count).map(|_| self.node(level)).collect()
    }

    fn node(&mut self, level: usize) -> Gen {
        let blocks = level < 2;
        match self.rng.below(if blocks { 20 } else { 15 }) {
            0..=4 => Gen::Text(self.text()),
            5..=7 => Gen::Raw(self.reference_in_text()),
            8..=10 => {
                let target = self.set_target();
                let value = self.expression();
                Gen::Set(target, value)
            }
            11 => Gen::Raw(self.comment()),
            12 => Gen::Raw(self.misc_directive()),
            13 | 14 => Gen::Raw(format!("{}{}", self.text(), self.text())),
            15..=17 => {
                let branches = 1 + self.rng.below(3);
                let branches = (0..branches)
                    .map(|_| {
                        let condition = self.condition();
                        let body = self.body(level);
                        (condition, body)
                    })
                    .collect();
                let otherwise = self.rng.chance(40).then(|| self.body(level));
                Gen::If(branches, otherwise)
            }
            _ => {
                let variable = (*self.rng.pick(&["$i", "$item", "$a"])).to_owned();
                let iterable = self.iterable();
                Gen::Foreach(variable, iterable, self.body(level))
            }
        }
    }

    fn body(&mut self, level: usize) -> Vec<Gen> {
        let count = self.rng.below(4);
        self.nodes(count, level + 1)
    }

    fn text(&mut self) -> String {
        (*self.rng.pick(TEXT)).to_owned()
    }

    fn comment(&mut self) -> String {
        match self.rng.below(3) {
            // Right after `$a.b` (and after `#set` there) `##` is text in Velocity 1.7.
            0 => "## a comment\n".to_owned(),
            3 => "\n## a comment\n".to_owned(),
            1 => "#* block\n comment *#".to_owned(),
            2 => "#[[ $not #if( parsed ]]#".to_owned(),
            _ => "#* block *#".to_owned(),
        }
    }

    /// Directives beyond #set/#if/#foreach, and things that look like directives.
    fn misc_directive(&mut self) -> String {
        match self.rng.below(7) {
            0 => "#{else}".to_owned(),
            1 => format!("#define($d){}$a#end", self.text()),
            2 => "#foreach($i in [1..3])$i#if($i == 2)#break#end#end".to_owned(),
            3 => "#hello".to_owned(),
            4 => "#{set}($b = 'B')".to_owned(),
            5 => format!("#if($a)#{{else}}{}#end", self.text()),
            _ => "#foreach($i in [1..2])#foreach($j in ['x','y'])$i$j$foreach.count#end#end"
                .to_owned(),
        }
    }

    fn set_target(&mut self) -> String {
        match self.rng.below(10) {
            0 => "$m.k".to_owned(),
            1 => "$m['k2']".to_owned(),
            2 => "$l[0]".to_owned(),
            _ => (*self.rng.pick(VARIABLES)).to_owned(),
        }
    }

    fn iterable(&mut self) -> String {
        match self.rng.below(8) {
            0 => "[1..3]".to_owned(),
            1 => "[3..1]".to_owned(),
            2 => "['x', $a, 2]".to_owned(),
            3 => "$input.path('$.items')".to_owned(),
            4 => "$l".to_owned(),
            5 => "$m".to_owned(),
            6 => "$m.keySet()".to_owned(),
            _ => "$context.authorizer.keySet()".to_owned(),
        }
    }

    /// A reference as it stands in text (with its notation variants).
    fn reference_in_text(&mut self) -> String {
        let reference = self.reference();
        let bare = reference.trim_start_matches('$');
        match self.rng.below(6) {
            0 => format!("$!{bare}"),
            1 if !bare.contains(['.', '[', '(']) => format!("${{{bare}}}"),
            2 if !bare.contains(['.', '[', '(']) => format!("$!{{{bare}}}"),
            _ => reference,
        }
    }

    fn reference(&mut self) -> String {
        match self.rng.below(24) {
            0..=5 => (*self.rng.pick(VARIABLES)).to_owned(),
            6 => "$context.stage".to_owned(),
            7 => "$context.authorizer.name".to_owned(),
            8 => "$context.authorizer.principalId".to_owned(),
            9 => "$context.identity.sourceIp".to_owned(),
            10 => "$stageVariables.env".to_owned(),
            11 => "$input.params('id')".to_owned(),
            12 => format!(
                "$input.path('{}')",
                self.rng.pick(&[
                    "$",
                    "$.a",
                    "$.a.b",
                    "$.items",
                    "$.price",
                    "$.n",
                    "$.missing"
                ])
            ),
            13 => format!(
                "$input.json('{}')",
                self.rng.pick(&["$", "$.a", "$.items[1]", "$.missing"])
            ),
            14 => "$util.escapeJavaScript($context.authorizer.name)".to_owned(),
            15 => "$m".to_owned(),
            16 => "$l".to_owned(),
            17 => format!("$m.{}", self.rng.pick(&["k", "k2", "size()", "keySet()"])),
            18 => format!("$l[{}]", self.rng.below(2)),
            19 => format!("$l.{}", self.rng.pick(&["size()", "isEmpty()", "get(0)"])),
            20 => "$foreach.index".to_owned(),
            21 => "$velocityCount".to_owned(),
            _ => {
                let target = *self.rng.pick(&["$a", "$s", "$context.authorizer.name"]);
                let method = self.string_method();
                format!("{target}.{method}")
            }
        }
    }

    fn string_method(&mut self) -> String {
        match self.rng.below(22) {
            0 => "length()".to_owned(),
            1 => "toUpperCase()".to_owned(),
            2 => "toLowerCase()".to_owned(),
            3 => "trim()".to_owned(),
            4 => format!("substring({})", self.rng.below(4)),
            5 => format!("substring(1, {})", 1 + self.rng.below(3)),
            6 => "indexOf('a')".to_owned(),
            7 => "lastIndexOf('e')".to_owned(),
            8 => format!("charAt({})", self.rng.below(3)),
            9 => "split(',')".to_owned(),
            10 => "split('a')".to_owned(),
            11 => "matches('[a-z ]+')".to_owned(),
            12 => "replaceFirst('a', 'A')".to_owned(),
            13 => "replaceAll('[aeiou]', '_')".to_owned(),
            14 => "equalsIgnoreCase('JANE')".to_owned(),
            15 => "contains('an')".to_owned(),
            16 => "startsWith('J')".to_owned(),
            17 => "isEmpty()".to_owned(),
            18 => "toString()".to_owned(),
            19 => "replace('e', 'E')".to_owned(),
            20 => "concat('!')".to_owned(),
            _ => "endsWith('e')".to_owned(),
        }
    }

    fn expression(&mut self) -> String {
        self.depth += 1;
        let deep = self.depth > 2;
        let choice = self.rng.below(if deep { 8 } else { 16 });
        let result = match choice {
            0 | 1 => self.number(),
            2 => self.string_literal(),
            3 => (*self.rng.pick(&["true", "false"])).to_owned(),
            4..=7 => self.reference(),
            8 | 9 => {
                let op = *self.rng.pick(&["+", "-", "*", "/", "%"]);
                let left = self.arith_operand();
                let right = self.arith_operand();
                format!("{left} {op} {right}")
            }
            10 => {
                let items: Vec<String> =
                    (0..self.rng.below(4)).map(|_| self.expression()).collect();
                format!("[{}]", items.join(", "))
            }
            11 => {
                let entries: Vec<String> = (0..self.rng.below(3))
                    .map(|i| format!("\"k{}\": {}", i, self.expression()))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
            12 => format!("[{}..{}]", self.small_int(), self.small_int()),
            13 => format!("({})", self.expression()),
            14 => self.condition(),
            _ => self.string_literal(),
        };
        self.depth -= 1;
        result
    }

    fn arith_operand(&mut self) -> String {
        match self.rng.below(6) {
            0..=2 => self.number(),
            3 => "$n".to_owned(),
            4 => "$foreach.index".to_owned(),
            _ => format!("({} + {})", self.number(), self.small_int()),
        }
    }

    fn small_int(&mut self) -> String {
        (*self.rng.pick(&["0", "1", "2", "3", "-1", "$n"])).to_owned()
    }

    fn number(&mut self) -> String {
        (*self.rng.pick(&[
            "0",
            "1",
            "2",
            "7",
            "-3",
            "10",
            "2147483647",
            "1.5",
            "0.25",
            "2.0",
            "-0.5",
            "100",
        ]))
        .to_owned()
    }

    fn string_literal(&mut self) -> String {
        (*self.rng.pick(&[
            "'plain'",
            "'it''s'",
            "''",
            "\"double\"",
            "\"say \"\"hi\"\"\"",
            "\"\\u0041\\n\"",
            "\"$a-x\"",
            "\"${b}y\"",
            "\"$!c z\"",
            "\"#if($a)A#{else}B#end\"",
            "\"a,b,,c,,\"",
            "'Jane Doe'",
            "\" padded \"",
            "\"$context.authorizer.name\"",
            "'\\'",
        ]))
        .to_owned()
    }

    fn condition(&mut self) -> String {
        self.depth += 1;
        let deep = self.depth > 2;
        let result = match self.rng.below(if deep { 4 } else { 9 }) {
            0 => self.reference(),
            1 | 2 => {
                let op = *self
                    .rng
                    .pick(&["==", "!=", "<", ">=", "eq", "ne", "gt", "le"]);
                let left = self.comparand();
                let right = self.comparand();
                format!("{left} {op} {right}")
            }
            3 => format!("!{}", self.reference()),
            4 => format!("{} && {}", self.condition(), self.condition()),
            5 => format!("{} || {}", self.condition(), self.condition()),
            6 => format!("!({})", self.condition()),
            7 => format!("{} == $null", self.reference()),
            _ => format!("$foreach.hasNext || {}", self.reference()),
        };
        self.depth -= 1;
        result
    }

    fn comparand(&mut self) -> String {
        match self.rng.below(5) {
            0 => self.number(),
            1 => self.string_literal(),
            2 => "$n".to_owned(),
            _ => self.reference(),
        }
    }
}

/// What every template starts with, so that variables have values of each kind.
const PRELUDE: &[(&str, &str)] = &[
    ("$n", "3"),
    ("$s", "'Jane,Doe,,'"),
    ("$m", "{'k': 'v', 'k2': 2}"),
    ("$l", "['x', 1]"),
];
