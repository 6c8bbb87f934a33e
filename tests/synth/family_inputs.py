"""Inputs of the families.py variants: texts per vocabulary and reranker query/document pairs.

Kept apart from families.py (data, not structure). Every text must stay below the smallest
context of its variants (they are 2 to 73 tokens); pairs must not contain a TAB (llama-embedding
splits the pair there).
"""

_WPM = [
    "[CLS] already there [SEP] and [MASK] inside [UNK]",
    "\u00c4pfel, \u00d6l und Stra\u00dfe: na\u00efve r\u00e9sum\u00e9 fa\u00e7ade",
    "\u6771\u4eac\u30bf\u30ef\u30fc\u306f\u9ad8\u3044\u3002\u5317\u4eac \u6b22\u8fce\u4f60",
    "don't stop-believing... e-mail: foo@bar.com 12,345.67",
    "ALL CAPS WORDS and MiXeD cAsE unaffable",
]
_UGM = [
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430? "
    "\u0412\u0441\u0451 \u0445\u043e\u0440\u043e\u0448\u043e.",
    "\u79c1\u306f\u6771\u4eac\u306b\u4f4f\u3093\u3067\u3044\u307e\u3059\u3002",
    "Der schnelle braune Fuchs springt \u00fcber den faulen Hund.",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645\u060c "
    "\u0643\u064a\u0641 \u062d\u0627\u0644\u0643\u061f",
    "text with </s> and <mask> and  <mask>inside <s> <pad>",
    "   leading and trailing spaces   ",
]
_BPE = [
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u041a\u0430\u043a "
    "\u0434\u0435\u043b\u0430?",
    "\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8\uff0c\u5929\u5b89\u95e8\u4e0a\u592a\u9633\u5347\u3002",
    "<|im_start|>user\nhello<|im_end|>\n<|endoftext|>",
    "def f(x):\n    return x**2  # square\n\tindented",
    "1234567890 3.14159 1e-9 \u0661\u0662\u0663 [PAD151700] user-defined pad",
]
_GEMMA = [
    "<start_of_turn>user\nhi there<end_of_turn>\n<start_of_turn>model",
    "\u00dcn\u00efc\u00f6d\u00e9 \u00f1 \u6771\u4eac \u2014 emoji \U0001F642\U0001F642 done",
    "Der schnelle braune Fuchs springt \u00fcber den faulen Hund. " * 3,
]
EXTRA_TEXTS = {"bert-bge": _WPM, "nomic-bert-moe": _UGM, "qwen2": _BPE, "gemma": _GEMMA}

PAIRS = [
    ("what is a panda?", [
        "The giant panda (Ailuropoda melanoleuca) is a bear species endemic to China.",
        "hi",
        "Paris is the capital and most populous city of France."]),
    ("Wie alt ist die Erde?", [
        "Die Erde ist etwa 4,54 Milliarden Jahre alt.",
        "The quick brown fox jumps over the lazy dog.",
        "\u5730\u7403\u7684\u5e74\u9f84\u7ea6\u4e3a\u0034\u0035\u4ebf\u5e74\u3002"]),
    ("\u6771\u4eac\u306e\u4eba\u53e3\u306f?", [
        "\u6771\u4eac\u90fd\u306e\u4eba\u53e3\u306f\u7d041400\u4e07\u4eba\u3067\u3059\u3002",
        "text with </s> inside and a longer tail: " + " ".join(["word"] * 30)]),
]
