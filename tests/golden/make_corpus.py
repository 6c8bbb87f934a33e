#!/usr/bin/env python3
"""Write tests/golden/corpus.jsonl: the texts our golden tokens/embeddings are computed for.

Deterministic: every text is written by hand or built from hand-written templates with
fixed index arithmetic (no randomness, no downloaded data). Python stdlib only.

Output: one JSON object per line, {"id": "...", "text": "..."}, UTF-8, compact.
Control, format, separator and private-use characters are written as \\uXXXX escapes
(surrogate pairs above U+FFFF) so that the file stays line-oriented and readable;
any JSON parser restores the exact text.

Usage: python3 tests/golden/make_corpus.py [OUT]   (default: corpus.jsonl next to this file)
"""
import json
import os
import sys
import unicodedata

ENTRIES = []
_IDS = set()


def add(cat, text, num=None):
    """Append a text under id '<cat>-NNN' (numbered per category)."""
    if num is None:
        num = sum(1 for i, _ in ENTRIES if i.rsplit("-", 1)[0] == cat) + 1
    ident = "%s-%03d" % (cat, num)
    assert ident not in _IDS, ident
    assert isinstance(text, str)
    text.encode("utf-8")  # raises on lone surrogates: only valid UTF-8
    assert "\x00" not in text  # keep texts usable as C strings
    _IDS.add(ident)
    ENTRIES.append((ident, text))


def lcg(seed):
    """Tiny fixed linear congruential generator (stable across Python versions)."""
    state = seed & 0xFFFFFFFF
    while True:
        state = (1103515245 * state + 12345) & 0x7FFFFFFF
        yield state


# --------------------------------------------------------------------------------------
# 1. Short English sentences
# --------------------------------------------------------------------------------------
SHORT_EN = [
    "Hello world",
    "Hello, world!",
    "hello world",
    "HELLO WORLD",
    "The cat sat on the mat.",
    "A quick brown fox jumps over the lazy dog.",
    "What is the capital of France?",
    "Paris is the capital of France.",
    "The capital city of France is Paris.",
    "How do I reset my password?",
    "I forgot my password and need to change it.",
    "Steps to recover a lost account password",
    "The weather is lovely today.",
    "It is a beautiful sunny day.",
    "It's raining cats and dogs.",
    "Machine learning models need lots of data.",
    "Neural networks learn from large datasets.",
    "She sells seashells by the seashore.",
    "I can't believe it's not butter!",
    "Don't stop believing.",
    "Where's the nearest train station?",
    "Good morning, how are you?",
    "Thanks a lot for your help.",
    "The meeting was moved to Thursday at 3 pm.",
    "Please send the report by Friday.",
    "Water boils at 100 degrees Celsius at sea level.",
    "The Earth orbits the Sun once every 365.25 days.",
    "Photosynthesis converts light energy into chemical energy.",
    "Mitochondria are the powerhouse of the cell.",
    "Shakespeare wrote Hamlet around 1600.",
    "Buy one, get one free!",
    "Is this the real life? Is this just fantasy?",
    "To be, or not to be: that is the question.",
    "All that glitters is not gold.",
    "OK",
    "Yes.",
    "No!",
    "Why?",
    "e.g. i.e. etc. vs. Mr. Mrs. Dr. St.",
    "The U.S.A. and the U.K. signed the treaty in 1947.",
    "search_document: the mitochondria",
    "task: search result | query: how tall is the eiffel tower",
    "title: none | text: The Eiffel Tower is 330 metres tall.",
    "task: sentence similarity | query: A man is playing a guitar.",
    "task: code retrieval | query: reverse a linked list in place",
    "task: question answering | query: Who painted the Mona Lisa?",
    "task: fact checking | query: The Great Wall of China is visible from space.",
    "task: classification | query: This movie was absolutely terrible.",
    "task: clustering | query: quarterly revenue growth",
]
for s in SHORT_EN:
    add("short-en", s)

# Paraphrase pairs (the sanity check expects high cosine inside a pair).
PARAPHRASES = [
    ("A man is playing a guitar on the stage.", "On stage, a man plays the guitar."),
    ("The children are playing football in the park.", "Kids are playing soccer in the park."),
    ("How can I improve my sleep quality?", "What are ways to sleep better at night?"),
    ("The stock market fell sharply today.", "Share prices dropped steeply today."),
    ("She is reading a book in the library.", "In the library, she reads a book."),
    ("The restaurant was closed for renovation.", "The restaurant shut down temporarily for renovations."),
]
for a, b in PARAPHRASES:
    add("para-pair", a)
    add("para-pair", b)

# --------------------------------------------------------------------------------------
# 2. Longer English sentences and paragraphs
# --------------------------------------------------------------------------------------
LONG_EN = [
    "Although the committee had debated the proposal for several weeks, no consensus emerged, "
    "and the chair eventually postponed the vote until the following session in the spring.",
    "The researchers found that, contrary to their initial hypothesis, participants who slept "
    "fewer than six hours performed better on short memory tasks but worse on long ones.",
    "If you are travelling through the mountains in winter, always carry chains for your tyres, "
    "a spare blanket, water, and enough food for at least one full day.",
    "The old lighthouse keeper, who had lived alone on the island for nearly forty years, "
    "kept a meticulous log of every ship that passed, every storm, and every bird he saw.",
    "Modern compilers perform aggressive optimizations such as inlining, loop unrolling, "
    "vectorization and dead-code elimination, which can make debugging optimized binaries difficult.",
    "She paused at the door, glanced back at the empty room where she had spent most of her "
    "childhood, and then, without another word, stepped out into the rain.",
    "In 1969, Neil Armstrong and Buzz Aldrin became the first humans to walk on the Moon, while "
    "Michael Collins remained in lunar orbit aboard the command module Columbia.",
    "Embedding models map sentences of arbitrary length to fixed-size vectors so that texts with "
    "similar meanings end up close together under cosine similarity.",
    "The recipe calls for two cups of flour, a teaspoon of baking soda, half a cup of sugar, "
    "three eggs, a pinch of salt and about 250 millilitres of warm milk.",
    "Despite the heavy traffic and the unexpected detour through the industrial district, the "
    "delivery van arrived at the warehouse just minutes before the loading dock closed.",
    "Quantum computers exploit superposition and entanglement to solve certain classes of problems, "
    "such as factoring large integers, far faster than any known classical algorithm.",
    "The museum's new exhibition brings together more than three hundred artefacts from "
    "across the ancient Mediterranean, many of which have never been shown in public before.",
]
for s in LONG_EN:
    add("long-en", s)

PARAGRAPHS = [
    "The village sat at the edge of a wide, slow river. In summer the children swam from the "
    "wooden pier, and in winter the fishermen cut holes in the ice and waited for hours in "
    "silence. Nobody remembered when the first houses had been built, but everybody agreed "
    "that the church bell was older than the church itself.",
    "Version control systems record changes to files over time so that you can recall specific "
    "versions later. Distributed systems such as Git give every developer a full copy of the "
    "history, which makes branching cheap and allows people to work offline. Merging, however, "
    "still requires care when two people edit the same lines.",
    "Climate scientists use large numerical models to simulate the atmosphere, the oceans, sea "
    "ice and the land surface. These models divide the planet into a three-dimensional grid and "
    "solve the equations of fluid motion and thermodynamics at each point, stepping forward in "
    "time by a few minutes at a time.",
    "Dear Ms. Thompson,\n\nThank you for your letter of 12 March. I am pleased to confirm that "
    "your application has been approved. Please find the signed contract attached; we kindly ask "
    "you to return a copy by the end of the month.\n\nYours sincerely,\nJames O'Connor",
    "Q: What is the difference between a process and a thread?\nA: A process has its own address "
    "space, while threads within the same process share memory. Creating a thread is usually "
    "cheaper than creating a process, but shared memory means threads need synchronization.",
    "Ingredients:\n- 200 g dark chocolate\n- 100 g butter\n- 3 eggs\n- 150 g sugar\n- 50 g flour\n\n"
    "Method:\n1. Melt the chocolate and butter.\n2. Whisk the eggs with the sugar.\n3. Fold "
    "everything together, add the flour and bake for 25 minutes at 180 °C.",
    "The first rule of the club was simple: nobody spoke about the club. The second rule was "
    "even simpler, and yet it was broken every single week, usually by the same two members, "
    "who could never resist telling their colleagues about the previous night's adventures.",
    "# Release notes\n\n## 2.3.0\n\n* Added support for streaming responses.\n* Fixed a crash "
    "when the configuration file was empty.\n* Improved start-up time by roughly 30%.\n\n"
    "## 2.2.1\n\n* Security fix for path traversal in the static file handler.",
    "Abstract. We present a method for learning sentence representations that transfer well to "
    "downstream retrieval and classification tasks. Our approach combines contrastive training "
    "on large weakly supervised corpora with a small amount of high-quality labelled data, and "
    "achieves state-of-the-art results on twelve benchmarks.",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the "
    "age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the "
    "season of Light, it was the season of Darkness, it was the spring of hope, it was the "
    "winter of despair.",
]
for s in PARAGRAPHS:
    add("para-en", s)

# --------------------------------------------------------------------------------------
# 3. Long documents (templated). Sliding-window attention matters above ~257 tokens.
# --------------------------------------------------------------------------------------
SUBJECTS = [
    "The engineering team", "A small startup in Lisbon", "The city council", "Our research group",
    "The volunteer fire brigade", "A retired schoolteacher", "The orchestra", "The hospital board",
    "An independent bookshop", "The national weather service", "A group of students",
    "The logistics department", "The mountain rescue service", "A local farmer",
]
VERBS = [
    "announced", "postponed", "reviewed", "completed", "redesigned", "investigated",
    "celebrated", "questioned", "documented", "funded", "simplified", "tested",
]
OBJECTS = [
    "the new bridge across the harbour", "a plan to reduce energy consumption by a third",
    "the annual report on water quality", "an experimental course on distributed systems",
    "the restoration of the old railway station", "a study of migratory birds along the coast",
    "the migration of the billing system to a new database", "a series of free evening concerts",
    "the policy on remote work", "a proposal to plant ten thousand trees",
    "the design of a cheaper water filter", "an audit of the public transport timetable",
]
CLAUSES = [
    "after months of careful preparation", "despite strong objections from several residents",
    "with support from a regional grant", "in close cooperation with two universities",
    "earlier than anyone had expected", "following a long and heated public debate",
    "while keeping the budget almost unchanged", "to the surprise of most observers",
    "as part of a broader five-year strategy", "even though the weather did not cooperate",
]
TAILS = [
    "Further details will be published next month.",
    "Critics argue that the timeline is unrealistic.",
    "A public consultation is planned for the autumn.",
    "The results so far have been encouraging.",
    "Several questions remain open, however.",
    "Local newspapers covered the story extensively.",
    "The next milestone is scheduled for early spring.",
    "Nobody involved expects the work to be easy.",
]


def english_doc(n_sentences, seed):
    g = lcg(seed)
    out = []
    for i in range(n_sentences):
        s = "%s %s %s %s." % (
            SUBJECTS[next(g) % len(SUBJECTS)],
            VERBS[next(g) % len(VERBS)],
            OBJECTS[next(g) % len(OBJECTS)],
            CLAUSES[next(g) % len(CLAUSES)],
        )
        if next(g) % 3 == 0:
            s += " " + TAILS[next(g) % len(TAILS)]
        out.append(s)
        if i % 6 == 5:
            out.append("\n\n")
        else:
            out.append(" ")
    return "".join(out).strip()


# Token counts in the comments (incl. BOS/EOS) were measured with llama-tokenize; the
# sentence counts were tuned for them. generate.sh prints the resulting ranges.
LONG_DOCS = [  # (id number, n_sentences, seed) -> approx tokens
    (1, 12, 11),    # 271 tokens: just above the 257-token window edge
    (2, 18, 12),    # 368 tokens
    (3, 24, 13),    # 513
    (4, 34, 14),    # 715
    (5, 49, 15),    # 1033
    (6, 64, 16),    # 1387
]
for num, n, seed in LONG_DOCS:
    add("long-doc", english_doc(n, seed), num)

# Exactly at the sliding-window edge: local layers mask pairs with |i - j| > 256, so
# 257 tokens (incl. BOS/EOS) see no masking and 258/259 do. Base text + k times " ok"
# (k tuned with llama-tokenize; checked in generate.sh's summary).
WINDOW_BASE = english_doc(11, 41)
for num, k in ((1, 28), (2, 29), (3, 30)):
    add("window", WINDOW_BASE + " ok" * k, num)

# A long numbered list, a long Chinese text, a long code file and a long mixed-language text.
add("long-doc", "\n".join("%d. Item number %d: remember to check the %s before leaving."
                           % (i, i, ["lights", "windows", "doors", "heating", "taps"][i % 5])
                           for i in range(1, 41)), 7)

ZH_SENT = [
    "今天天气很好，我们去公园散步。", "这个城市的历史可以追溯到两千多年前。",
    "他每天早上六点起床，然后去跑步。", "科学家们正在研究一种新的治疗方法。",
    "图书馆里有很多关于中国古代文化的书。", "我们应该保护环境，减少塑料的使用。",
    "这家餐厅的饺子非常好吃，价格也不贵。", "人工智能正在改变我们的生活方式。",
    "春天来了，花儿都开了，鸟儿在树上唱歌。", "学习一门新的语言需要耐心和坚持。",
]
g = lcg(7)
add("long-doc", "".join(ZH_SENT[next(g) % len(ZH_SENT)] for _ in range(70)), 8)

PY_FUNCS = []
for i in range(12):
    PY_FUNCS.append(
        "def compute_%d(values, scale=%d.0):\n"
        "    \"\"\"Return the scaled sum of the positive values (variant %d).\"\"\"\n"
        "    total = 0.0\n"
        "    for v in values:\n"
        "        if v > 0:\n"
        "            total += v * scale\n"
        "    return total / max(len(values), 1)\n" % (i, i + 1, i))
add("long-doc", "import math\nimport sys\n\n\n" + "\n\n".join(PY_FUNCS), 9)

MIXED_LONG = []
for i in range(24):
    MIXED_LONG.append([
        "The committee met on day %d. " % (i + 1),
        "Le comité s'est réuni le jour %d. " % (i + 1),
        "Der Ausschuss tagte am Tag %d. " % (i + 1),
        "委员会在第%d天开会。" % (i + 1),
        "Комитет собрался в день %d. " % (i + 1),
        "委員会は%d日目に開かれました。" % (i + 1),
    ][i % 6])
add("long-doc", "".join(MIXED_LONG * 3), 10)

# Texts near but below the 2048-token context (1700..2040 tokens incl. BOS/EOS).
add("near-max", english_doc(85, 21), 1)       # 1750 tokens
add("near-max", english_doc(88, 22), 2)       # 1949
add("near-max", english_doc(92, 23), 3)       # 2024
add("near-max", "".join(ZH_SENT[(i * 7 + 3) % len(ZH_SENT)] for i in range(182)), 4)  # 1893
add("near-max", "\n\n".join(PY_FUNCS * 2), 5)  # code, 1816

# --------------------------------------------------------------------------------------
# 4. Code
# --------------------------------------------------------------------------------------
CODE = [
    # C
    "#include <stdio.h>\n\nint main(void) {\n    printf(\"Hello, world!\\n\");\n    return 0;\n}\n",
    "static inline float dot(const float *a, const float *b, size_t n) {\n\tfloat s = 0.0f;\n"
    "\tfor (size_t i = 0; i < n; ++i) s += a[i] * b[i];\n\treturn s;\n}",
    "typedef struct node { int key; struct node *next; } node_t;\n\n"
    "node_t *reverse(node_t *h) {\n    node_t *p = NULL;\n    while (h) { node_t *n = h->next; h->next = p; p = h; h = n; }\n"
    "    return p;\n}",
    "#define MAX(a, b) ((a) > (b) ? (a) : (b))\n#if defined(__AVX2__)\n#  include <immintrin.h>\n#endif",
    # Python
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\nprint([fib(i) for i in range(10)])",
    "class Stack:\n    def __init__(self):\n        self._items = []\n\n    def push(self, x):\n        self._items.append(x)\n\n"
    "    def pop(self):\n        return self._items.pop()\n",
    "import numpy as np\n\nx = np.linspace(0, 2 * np.pi, 100)\ny = np.sin(x) ** 2 + np.cos(x) ** 2\nassert np.allclose(y, 1.0)",
    "with open('data.csv', newline='') as f:\n    for row in csv.DictReader(f):\n        print(f\"{row['name']!r}: {float(row['score']):.2f}\")",
    # JavaScript / TypeScript
    "const sum = (xs) => xs.reduce((a, b) => a + b, 0);\nconsole.log(sum([1, 2, 3]));",
    "async function fetchJson(url) {\n  const res = await fetch(url, { headers: { 'Accept': 'application/json' } });\n"
    "  if (!res.ok) throw new Error(`HTTP ${res.status}`);\n  return res.json();\n}",
    "interface User { id: number; name: string; email?: string }\nexport function greet(u: User): string { return `Hi ${u.name}`; }",
    "document.querySelectorAll('a[href^=\"http\"]').forEach(a => { a.target = '_blank'; a.rel = 'noopener'; });",
    # SQL
    "SELECT id, name, COUNT(*) AS n\nFROM users u\nJOIN orders o ON o.user_id = u.id\nWHERE o.created_at >= '2024-01-01'\n"
    "GROUP BY id, name\nHAVING COUNT(*) > 5\nORDER BY n DESC\nLIMIT 10;",
    "CREATE TABLE IF NOT EXISTS items (\n  id INTEGER PRIMARY KEY,\n  title TEXT NOT NULL,\n  price NUMERIC(10,2) DEFAULT 0.00\n);",
    "UPDATE accounts SET balance = balance - 100 WHERE id = 42; -- withdraw",
    # JSON
    "{\"name\": \"ggufembed\", \"version\": \"0.1.0\", \"dims\": [768, 512, 256, 128], \"normalize\": true, \"extra\": null}",
    "[{\"id\":1,\"tags\":[\"a\",\"b\"]},{\"id\":2,\"tags\":[]},{\"id\":3,\"nested\":{\"x\":1.5e-3,\"y\":-2}}]",
    "{\n  \"compilerOptions\": {\n    \"target\": \"ES2022\",\n    \"strict\": true\n  }\n}",
    # HTML / CSS / XML
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Test</title></head>\n"
    "<body><h1 class=\"title\">Hello</h1><p>World &amp; friends &lt;3</p></body>\n</html>",
    "<div id=\"app\"><ul><li><a href=\"/home\">Home</a></li><li><a href=\"/about\">About</a></li></ul></div>",
    "body { margin: 0; font-family: system-ui, sans-serif; }\n.btn:hover { color: #ff0066; }",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<note><to>Tove</to><from>Jani</from><body>Don't forget me!</body></note>",
    # Others
    "#!/bin/sh\nset -eu\nfor f in *.txt; do\n  wc -l \"$f\"\ndone | sort -n | tail -n 3",
    "fn main() {\n    let v: Vec<u32> = (1..=10).filter(|x| x % 2 == 0).collect();\n    println!(\"{:?}\", v);\n}",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tch := make(chan int)\n\tgo func() { ch <- 42 }()\n\tfmt.Println(<-ch)\n}",
    "public static <T extends Comparable<T>> T max(List<T> xs) { return Collections.max(xs); }",
    "\\begin{equation}\n  E = mc^2 \\quad \\text{and} \\quad \\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}\n\\end{equation}",
    "diff --git a/src/main.c b/src/main.c\n--- a/src/main.c\n+++ b/src/main.c\n@@ -1,3 +1,3 @@\n-int x = 1;\n+int x = 2;\n",
    "key: value\nlist:\n  - one\n  - two\nnested:\n  enabled: true\n  ratio: 0.75\n",
    "(defun square (x) (* x x))\n(mapcar #'square '(1 2 3 4))",
    "x <- c(1, 2, 3)\nmean(x) |> print()",
    "SELECT * FROM t WHERE name LIKE '%_\\%%' ESCAPE '\\';",
]
for s in CODE:
    add("code", s)

# --------------------------------------------------------------------------------------
# 5. Scripts / languages
# --------------------------------------------------------------------------------------
LANGS = [
    ("zh", "我爱自然语言处理。"),
    ("zh", "北京是中华人民共和国的首都，也是全国的政治和文化中心。"),
    ("zh", "繁體中文與簡體中文在字形上有許多差異。"),
    ("ja", "今日はとても良い天気ですね。"),
    ("ja", "東京スカイツリーは高さ634メートルの電波塔です。カタカナとひらがなと漢字が混ざっています。"),
    ("ja", "ｶﾀｶﾅ ﾊﾝｶｸ と ＦＵＬＬＷＩＤＴＨ　ＡＳＣＩＩ １２３"),
    ("ko", "안녕하세요, 만나서 반갑습니다."),
    ("ko", "한국어는 한글이라는 고유한 문자를 사용합니다."),
    ("ar", "مرحبا بالعالم"),
    ("ar", "اللغة العربية هي إحدى اللغات الرسمية في الأمم المتحدة."),
    ("ar", "بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ"),
    ("fa", "زبان فارسی در ایران، افغانستان و تاجیکستان صحبت می‌شود."),
    ("ur", "اردو پاکستان کی قومی زبان ہے۔"),
    ("he", "שלום עולם"),
    ("he", "העברית נכתבת מימין לשמאל."),
    ("hi", "नमस्ते दुनिया"),
    ("hi", "हिन्दी भारत की सबसे अधिक बोली जाने वाली भाषा है।"),
    ("mr", "मराठी ही महाराष्ट्राची राजभाषा आहे."),
    ("ne", "नेपाल हिमालयको काखमा अवस्थित छ।"),
    ("bn", "আমি বাংলায় গান গাই।"),
    ("pa", "ਪੰਜਾਬੀ ਗੁਰਮੁਖੀ ਲਿਪੀ ਵਿੱਚ ਲਿਖੀ ਜਾਂਦੀ ਹੈ।"),
    ("gu", "ગુજરાતી ભાષા ગુજરાતમાં બોલાય છે."),
    ("ta", "தமிழ் ஒரு பழமையான மொழி."),
    ("te", "తెలుగు దేశ భాషలందు లెస్స."),
    ("kn", "ಕನ್ನಡ ಕರ್ನಾಟಕದ ಅಧಿಕೃತ ಭಾಷೆ."),
    ("ml", "മലയാളം കേരളത്തിലെ ഭാഷയാണ്."),
    ("si", "ශ්‍රී ලංකාව දිවයිනකි."),
    ("th", "สวัสดีครับ ยินดีที่ได้รู้จัก"),
    ("th", "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ"),
    ("lo", "ພາສາລາວ ເປັນພາສາທາງການຂອງລາວ."),
    ("km", "ភាសាខ្មែរ គឺជាភាសាផ្លូវការរបស់ប្រទេសកម្ពុជា។"),
    ("my", "မြန်မာဘာသာစကား"),
    ("bo", "བོད་ཡིག་ནི་བོད་པའི་ཡི་གེ་ཡིན།"),
    ("ru", "Привет, мир! Как дела?"),
    ("ru", "Москва — столица Российской Федерации и крупнейший город страны."),
    ("uk", "Україна — держава у Східній Європі. Ґанок, їжак, є."),
    ("bg", "България е държава в Югоизточна Европа."),
    ("sr", "Српски језик се пише ћирилицом и латиницом."),
    ("kk", "Қазақ тілі — Қазақстанның мемлекеттік тілі."),
    ("mn", "Монгол хэл кирилл үсгээр бичигддэг."),
    ("el", "Γειά σου κόσμε! Η ελληνική γλώσσα έχει μακρά ιστορία."),
    ("el", "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ αβγδεζηθικλμνξοπρσςτυφχψω"),
    ("ka", "გამარჯობა, მსოფლიო! ქართული ენა უნიკალურ დამწერლობას იყენებს."),
    ("hy", "Բարև աշխարհ։ Հայերենն ունի իր սեփական այբուբենը։"),
    ("am", "ሰላም ለዓለም። አማርኛ በግዕዝ ፊደል ይጻፋል።"),
    ("ti", "ትግርኛ ቋንቋ ኤርትራን ኢትዮጵያን እዩ።"),
    ("iu", "ᐃᓄᒃᑎᑐᑦ ᐅᖃᐅᓯᖅ"),
    ("chr", "ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ"),
    ("mn-trad", "ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ"),
    ("dv", "ދިވެހިބަސް"),
    ("syr", "ܠܫܢܐ ܣܘܪܝܝܐ"),
    ("vi", "Tiếng Việt có nhiều dấu thanh: à á ả ã ạ, ư ơ ê ô đ."),
    ("tr", "Türkçe'de ı, İ, ğ, ş, ç, ö ve ü harfleri vardır."),
    ("pl", "Zażółć gęślą jaźń."),
    ("cs", "Příliš žluťoučký kůň úpěl ďábelské ódy."),
    ("de", "Größenwahn und Straßenbahn: Die Fußgängerzone ist übervölkert."),
    ("fr", "Où est la bibliothèque ? L'été dernier, nous sommes allés à Noël chez ma sœur."),
    ("es", "¿Dónde está la estación? ¡Qué sorpresa! El niño comió piña."),
    ("pt", "A comunicação é fundamental; não há dúvida disso."),
    ("it", "Perché la città è così affollata in agosto?"),
    ("nl", "Het is een mooie dag om te fietsen langs de gracht."),
    ("sv", "Räksmörgås är en svensk klassiker."),
    ("fi", "Hyvää huomenta! Järvellä on jäätä."),
    ("hu", "Árvíztűrő tükörfúrógép."),
    ("ro", "Știința și tehnologia sunt importante în România."),
    ("is", "Þetta er íslenska með ð og þ."),
    ("ga", "Tá an aimsir go deas inniu."),
    ("cy", "Mae'r tywydd yn braf heddiw."),
    ("sw", "Habari ya asubuhi? Ninafurahi kukuona."),
    ("yo", "Ẹ kú àárọ̀. Báwo ni?"),
    ("ha", "Ina kwana? Lafiya lau."),
    ("zu", "Sawubona, unjani?"),
    ("id", "Selamat pagi, apa kabar?"),
    ("tl", "Magandang umaga po sa inyong lahat."),
    ("eo", "Ĉu vi parolas Esperanton? Ĝi estas facila lingvo."),
    ("la", "Gallia est omnis divisa in partes tres."),
]
for code_, s in LANGS:
    add("lang-" + code_, s)

MIXED = [
    "Hello 世界! Привет мир! مرحبا! שלום! नमस्ते!",
    "我在用Python写code，感觉very good。",
    "The word 'café' in Japanese is カフェ and in Korean is 카페.",
    "iPhone 15 Pro Max の価格は¥159,800です。",
    "Meeting at 10:00 — ca. 2h — Ort: Zürich, 会议室 3B",
    "Arabic numerals ٠١٢٣٤٥٦٧٨٩ vs Devanagari ०१२३४५६७८९ vs Thai ๐๑๒๓๔๕๖๗๘๙",
    "English then עברית then English again (bidi mixing).",
    "Σ (sigma) and σ, ς; Ω (ohm) vs Ω (omega); K (kelvin) vs K.",
    "Mixing scripts inside a word: abcабвαβγ",
    "Translation: 'cat' = 'chat' (fr) = 'Katze' (de) = '猫' (ja) = 'кошка' (ru) = 'قطة' (ar)",
]
for s in MIXED:
    add("mixed", s)

# --------------------------------------------------------------------------------------
# 6. Emoji
# --------------------------------------------------------------------------------------
EMOJI = [
    "😀",
    "I love pizza 🍕 and tacos 🌮!",
    "👍🏻👍🏼👍🏽👍🏾👍🏿",
    "👨‍👩‍👧‍👦 family",
    "👩‍💻 coding late at night 🌙",
    "🏳️‍🌈 🏴‍☠️ 🏳️‍⚧️",
    "🇺🇸🇬🇧🇫🇷🇩🇪🇯🇵🇨🇳🇧🇷🇮🇳",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland and 🏴󠁧󠁢󠁷󠁬󠁳󠁿 Wales",
    "❤️ vs ❤ (with and without VS16)",
    "1️⃣ 2️⃣ #️⃣ *️⃣",
    "🧑🏽‍🤝‍🧑🏿 people holding hands",
    "😂😂😂😂😂😂😂😂😂😂",
    "Great job!!! 🎉🎉🎉 Let's celebrate 🥳🍾",
    "🐶🐱🐭🐹🐰🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵",
    "emoji at the end 🚀",
    "☺︎ text presentation vs ☺️ emoji presentation",
]
for s in EMOJI:
    add("emoji", s)

# --------------------------------------------------------------------------------------
# 7. Combining marks, NFC vs NFD
# --------------------------------------------------------------------------------------
NF_BASE = [
    "café résumé naïve",
    "Ångström Øresund",
    "한국어 텍스트",
    "Tiếng Việt",
    "Ελληνικά με τόνους: άέήίόύώ",
    "Ñandú, pingüino, corazón",
]
for s in NF_BASE:
    nfc = unicodedata.normalize("NFC", s)
    nfd = unicodedata.normalize("NFD", s)
    assert nfc != nfd
    add("nfc", nfc)
    add("nfd", nfd)
COMBINING = [
    "e\u0301 vs \u00e9",
    "a\u0300\u0301\u0302\u0303\u0304\u0308",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333",
    "\u0301 starts with a combining mark",
    "\u0915\u094d\u0937 \u0924\u094d\u0930 \u091c\u094d\u091e",
    "\ufb01 ligature and \u2126 ohm and \u212b angstrom",
]
for s in COMBINING:
    add("combining", s)

# --------------------------------------------------------------------------------------
# 8. Whitespace
# --------------------------------------------------------------------------------------
for n in (2, 3, 4, 5, 7, 8, 10, 16, 31, 32, 33, 40):
    add("spaces", "a" + " " * n + "b")
add("spaces", "word" + " " * 40)
add("spaces", " " * 17 + "indented")
add("spaces", "one two  three   four    five     six      seven")
add("spaces", " " * 40)
add("spaces", "  ")
WS = [
    "\t", "\ttab at start", "tab\tin\tthe\tmiddle", "two tabs\t\there", "\t\t\t\t",
    "\n", "\n\n", "line one\nline two\nline three", "trailing newline\n", "\nleading newline",
    "paragraph one\n\n\nparagraph two after three newlines",
    "windows\r\nline\r\nendings\r\n", "\r\n", "old mac\rline\rendings", "\r",
    "  leading and trailing spaces  ", " leading", "trailing ", "\t \n \r\n mixed \t\n",
    "a\n \n \nb", "    def indented():\n        return 1\n",
    "\x0bvertical tab\x0c form feed",
]
for s in WS:
    add("ws", s)

UNUSUAL_WS = [
    "non\u00a0breaking\u00a0space", "ideographic\u3000space\u3000全角", "en\u2002em\u2003thin\u2009hair\u200a",
    "narrow\u202fno-break", "line\u2028separator", "paragraph\u2029separator", "next\u0085line",
    "\u00a0\u00a0\u00a0", "\u3000", "figure\u2007space and medium\u205fmath space",
    "ogham\u1680space",
]
for s in UNUSUAL_WS:
    add("uws", s)

ZERO_WIDTH = [
    "zero\u200bwidth\u200bspace", "zero\u200cwidth non-joiner", "zero\u200dwidth joiner",
    "\ufeffbyte order mark at start", "word\u2060joiner", "soft\u00adhyphen", "\u200b",
    "left\u200eto\u200fright marks", "invisible\u2062times and \u2063 separator",
    "bidi \u202eoverride\u202c and \u2066isolate\u2069",
]
for s in ZERO_WIDTH:
    add("zw", s)

# --------------------------------------------------------------------------------------
# 9. Digits, numbers, punctuation, URLs, emails, math
# --------------------------------------------------------------------------------------
NUMS = [
    "0", "42", "3.14159", "1234567890", "12345678901234567890123456789012345678901234567890",
    "-273.15 °C", "1,000,000 and 1.000.000 and 1 000 000", "6.022e23 mol^-1", "0xDEADBEEF 0b1011 0o755",
    "+1 (555) 123-4567", "2024-03-15T12:34:56.789Z", "IPv4 192.168.0.1 and IPv6 2001:db8::ff00:42:8329",
    "Version 1.2.3-rc.1+build.456", "$1,299.99 €49,90 £5 ¥1000 ₹250 ₿0.001", "50% off, 3/4 cup, 1½ tsp",
    "3.141592653589793238462643383279502884197169399375105820974944592307816406286",
    "ISBN 978-3-16-148410-0", "Ⅰ Ⅱ Ⅲ Ⅳ Ⅻ ① ② ③ ¹²³ ₁₂₃",
]
for s in NUMS:
    add("num", s)

PUNCT = [
    "...", "!?!?!?", "?!", "---", "—–-", "()[]{}<>", "\"'`", "«»‹›„“”‘’",
    ".,;:!?", "@#$%^&*", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
    "................................................................", "。、！？「」『』【】",
    "=== *** ### ~~~ ___ +++", "¡¿§¶†‡•※",
]
for s in PUNCT:
    add("punct", s)

URLS = [
    "https://www.example.com/path/to/page?query=1&lang=en#section-2",
    "Visit http://localhost:8080/api/v1/users/42 for details.",
    "ftp://files.example.org/pub/data.tar.gz",
    "https://de.wikipedia.org/wiki/Stra%C3%9Fe",
    "https://例え.jp/パス?q=値",
    "file:///home/user/My%20Documents/report.pdf",
    "Contact us at support@example.com or sales+eu@example.co.uk.",
    "first.last@sub.domain.example",
    "user@例え.jp",
    "git@github.com:ggml-org/llama.cpp.git",
    "mailto:someone@example.com?subject=Hello%20there",
    "C:\\Users\\Admin\\AppData\\Local\\Temp\\file.txt",
    "/usr/local/lib/python3.11/site-packages/numpy/__init__.py",
]
for s in URLS:
    add("url", s)

MATH = [
    "∀x ∈ ℝ: x² ≥ 0",
    "∑_{i=1}^{n} i = n(n+1)/2",
    "∫₀^∞ e^(−x²) dx = √π / 2",
    "A ∩ B ⊆ A ∪ B, ∅ ⊂ ℕ ⊂ ℤ ⊂ ℚ ⊂ ℝ ⊂ ℂ",
    "≤ ≥ ≠ ≈ ≡ ∞ ∂ ∇ ∏ ∑ √ ∛ ∝ ± × ÷ ⊕ ⊗ ⇒ ⇔ ¬ ∧ ∨",
    "𝔸𝔹ℂ 𝒜ℬ𝒞 𝐀𝐁𝐂 𝑥𝑦𝑧 𝟘𝟙𝟚",
    "f(x) = ax^2 + bx + c; x = (-b ± √(b² - 4ac)) / 2a",
    "α + β = γ, Δt → 0, λ = h/p",
]
for s in MATH:
    add("math", s)

# --------------------------------------------------------------------------------------
# 10. Edge cases
# --------------------------------------------------------------------------------------
EDGE = [
    "", " ", "a", "A", "z", ".", "1", "é", "中", "\u2581", "\u2581word", "▁▁", "_", "__init__",
    "a b", "ab", "I", "the",
]
for s in EDGE:
    add("edge", s)

# Strings that look like special tokens or markup.
SPECIAL_LIKE = [
    "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<bos>Hello world", "Hello world<eos>",
    "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>",
    "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<image_soft_token>",
    "<bos><bos><eos><eos>", "<BOS>", "< bos >", "<bos", "bos>", "<<bos>>", "</bos>",
    "<s>", "</s>", "<|endoftext|>", "<|im_start|>user", "[CLS] text [SEP]", "[MASK]",
    "<unused0>", "<unused99>", "<0x41>", "<0xFF>", "<0x00>", "<2mass>", "<eos> after",
    "<h1>Title</h1>", "<b>bold</b> and <i>italic</i>", "<br/>", "<script>alert('x')</script>",
    "<!-- comment -->", "&lt;bos&gt; &amp; &nbsp; &#x1F600;", "{{ template }} {% block %}",
    "<tab>", "<space>", "\\n literal backslash n", "\\t \\\\ \\\" \\'",
]
for s in SPECIAL_LIKE:
    add("special", s)

# Private-use, rare and byte-fallback characters.
RARE = [
    "\ue000\ue001\uf8ff",
    "private use: \U000f0000 \U00100000 \U0010fffd",
    "\U00020000\U0002a6d6 CJK extension B",
    "𓀀𓀁𓀂 Egyptian hieroglyphs",
    "𒀀𒀁𒀂 cuneiform",
    "𐀀𐀁𐀂 Linear B",
    "𝄞𝄢 musical symbols",
    "\x01\x02\x03\x07\x1b[31mred\x1b[0m control chars",
    "\x7f delete and \x80 \x9f C1 controls",
    "\ufffd replacement character",
    "\ufffe\uffff noncharacters",
    "\U0001f9ff\U0001fa75\U0001fae8 newer emoji",
    "ꙮ multiocular O",
    "𐍈 Gothic hwair",
    "ᚠᚢᚦᚨᚱᚲ runes",
    "\u2603\u2764\u262f snowman heart yin-yang",
]
for s in RARE:
    add("rare", s)

LONG_WORDS = [
    "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
    "x" * 500,
    "ab" * 300,
    "supercalifragilisticexpialidocious" * 8,
    "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGJhc2U2NCBlbmNvZGVkIHN0cmluZyB0aGF0IGlzIHF1aXRlIGxvbmcgaW5kZWVk" * 3,
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",
    "中" * 300,
    "😀" * 100,
    "ааааааааааааааааааааааааааааааааааааааааааааааааа",
]
for s in LONG_WORDS:
    add("longword", s)

# A few long texts in other scripts (beyond the sliding window).
g = lcg(99)
RU_SENT = ["Сегодня прекрасная погода.", "Мы пошли гулять в парк.", "Дети играли у реки.",
           "Вечером начался дождь.", "Библиотека открыта до девяти часов."]
add("long-doc", " ".join(RU_SENT[next(g) % len(RU_SENT)] for _ in range(90)), 11)
AR_SENT = ["ذهب الطالب إلى المدرسة في الصباح.", "الجو جميل اليوم.", "قرأت كتابا مفيدا عن التاريخ.",
           "المدينة مزدحمة في المساء."]
add("long-doc", " ".join(AR_SENT[next(g) % len(AR_SENT)] for _ in range(80)), 12)
HI_SENT = ["आज मौसम बहुत अच्छा है।", "बच्चे पार्क में खेल रहे हैं।", "मैंने एक नई किताब पढ़ी।",
           "शाम को बारिश हुई।"]
add("long-doc", " ".join(HI_SENT[next(g) % len(HI_SENT)] for _ in range(70)), 13)
add("long-doc", ("The quick brown fox jumps over the lazy dog. " * 60).strip(), 14)
add("long-doc", "\n".join("    " * (i % 4) + "- bullet %d" % i for i in range(120)), 15)


def to_line(ident, text):
    s = json.dumps({"id": ident, "text": text}, ensure_ascii=False, separators=(", ", ": "))
    out = []
    for ch in s:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Co") or ch in "\u0085\ufeff\ufffe\uffff":
            cp = ord(ch)
            if cp > 0xFFFF:
                cp -= 0x10000
                out.append("\\u%04x\\u%04x" % (0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)))
            else:
                out.append("\\u%04x" % cp)
        else:
            out.append(ch)
    line = "".join(out)
    assert json.loads(line) == {"id": ident, "text": text}
    return line


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus.jsonl")
    assert len(ENTRIES) >= 320, len(ENTRIES)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for ident, text in ENTRIES:
            f.write(to_line(ident, text) + "\n")
    print("%s: %d texts" % (out, len(ENTRIES)), file=sys.stderr)


if __name__ == "__main__":
    main()
