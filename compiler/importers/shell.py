"""POSIX shell words with their offsets: what a hand-written launch script runs.

`commands(text)` splits a script into simple commands (at newlines, `;`, `&&`, `||`, `|`, `&`), joins
backslash-newline continuations, removes quotes and keeps each word's start and end offset in the original
text, so a finding can point at the flag as written. Parameter expansions (`$VAR`, `${VAR:-x}`, `$(...)`)
are kept as written and marked symbolic: llmc never runs the script. Leading `NAME=value` words are the
command's environment; `export NAME=value` lines set it for the rest of the script.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
OPERATORS = ("&&", "||", ";;", ";", "|", "&")
# Words that run the rest of the line as another command.
WRAPPERS = {"exec", "nohup", "sudo", "command", "env", "nice", "taskset", "numactl", "stdbuf"}


@dataclass(frozen=True)
class Word:
    text: str          # unquoted
    start: int         # offsets into the text, end exclusive
    end: int
    symbolic: bool = False   # holds an expansion the script resolves at run time

    def __str__(self) -> str:
        return self.text


@dataclass
class Command:
    words: list[Word] = field(default_factory=list)
    env: dict[str, Word] = field(default_factory=dict)        # what the process inherits: NAME -> NAME=value
    variables: dict[str, Word] = field(default_factory=dict)  # what its words may expand (every assignment)

    def env_value(self, name: str) -> str | None:
        word = self.env.get(name)
        return word.text.partition("=")[2] if word else None


# Words that run the rest of the line as another command, and reserved words that start a compound one.
RESERVED = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "(", "time"}


def commands(text: str, base: int = 0, script: str | None = None) -> list[Command]:
    """Every simple command of `text`; offsets are `base` + the offset in `text`. `export` lines add to the
    environment of the commands after them; an assignment alone on a line is a shell variable (expanded in
    later words, not inherited). With the script's path, `$0` and the `"$(cd "$(dirname "$0")/.." && pwd)"`
    idiom resolve to where it is."""
    variables = {"0": Word(f"0={script}", 0, 0)} if script else {}
    return _commands(text, base, {}, variables)


def assignments(text: str) -> dict[str, Word]:
    """The variables a script (or an env file of NAME=value lines) leaves set."""
    variables: dict[str, Word] = {}
    _commands(text, 0, {}, variables)
    return variables


def _commands(text: str, base: int, exported: dict[str, Word], variables: dict[str, Word]) -> list[Command]:
    out: list[Command] = []
    # CRLF files: `\\\r\n` continues a line and `\r\n` ends one; same length, so offsets hold
    text = text.replace("\\\r\n", " \\\n").replace("\r\n", " \n")
    for words in _split(text, base):
        command = Command(env=dict(exported), variables=variables)
        i = 0
        while i < len(words):   # `CUDA_VISIBLE_DEVICES=0 exec env A=b vllm ...`: assignments around wrappers
            rest = unwrap(words[i:])
            i = len(words) - len(rest)
            if i < len(words) and ASSIGNMENT.match(words[i].text):
                word = resolve(words[i], {**variables, **command.env})
                command.env[word.text.partition("=")[0]] = word
                i += 1
            else:
                break
        if i < len(words) and words[i].text == "export":
            for word in words[i + 1:]:
                if ASSIGNMENT.match(word.text):
                    word = resolve(word, variables)
                    exported[word.text.partition("=")[0]] = variables[word.text.partition("=")[0]] = word
            continue
        if i == len(words):
            variables.update({k: v for k, v in command.env.items() if k not in exported})
            continue
        command.variables = {**variables, **command.env}
        command.words = _without_redirections(words[i:])
        if command.words:
            out.append(command)
    return out


def unwrap(words: list[Word]) -> list[Word]:
    """The command behind reserved words (`then vllm serve`) and wrappers with their options (`sudo -E`,
    `nohup`, `env -u X`)."""
    i = 0
    while i < len(words):
        if words[i].text in RESERVED:
            i += 1
        elif words[i].text in WRAPPERS:
            i += 1
            while i < len(words) and words[i].text.startswith("-") and words[i].text != "--":
                i += 1 + (words[i].text in ("-u", "-g", "-C", "-D"))   # the options that take a value
        else:
            break
    return words[i:]


def _without_redirections(words: list[Word]) -> list[Word]:
    """`> log 2>&1`, `&>/dev/null`, `< input`: the shell's, not the command's."""
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif REDIRECT.fullmatch(word.text):
            skip = True                 # the target is the next word
        elif REDIRECT.match(word.text):
            continue                    # the target is in the word
        else:
            out.append(word)
    return out


REDIRECT = re.compile(r"[0-9]*(>>|>&|&>|<|>)(?:&?[0-9-]*)?")


def _split(text: str, base: int) -> list[list[Word]]:
    """Words grouped into simple commands."""
    groups: list[list[Word]] = [[]]
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("\\\n", i):
            i += 2
        elif c in " \t\r":
            i += 1
        elif c == "\n":
            groups.append([])
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif (op := next((o for o in OPERATORS if text.startswith(o, i)), None)) is not None and \
                not (op == "&" and (text[i - 1:i] in ("<", ">") or text[i + 1:i + 2] == ">")):
            groups.append([])
            i += len(op)
        else:
            word, i = _word(text, i)
            groups[-1].append(Word(word[0], base + word[1], base + i, word[2]))
    return [g for g in groups if g]


def _word(text: str, i: int) -> tuple[tuple[str, int, bool], int]:
    start, out, symbolic, n = i, [], False, len(text)
    while i < n and (text[i] not in " \t\r\n;&|" or (text[i] == "&" and (text[i - 1:i] in ("<", ">")
                                                                             or text[i + 1:i + 2] == ">"))):
        c = text[i]
        if text.startswith("\\\n", i):
            i += 2
        elif c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
        elif c == "'":
            end = text.find("'", i + 1)
            end = n if end < 0 else end
            out.append(text[i + 1:end])
            i = end + 1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text.startswith("$(", i):   # a command substitution may hold quotes of its own
                    end = _closing(text, i + 1, "(", ")")
                    out.append(text[i:end])
                    symbolic, i = True, end
                    continue
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\$`\n':
                    if text[i + 1] != "\n":
                        out.append(text[i + 1])
                    i += 2
                    continue
                symbolic |= text[i] in "$`"
                out.append(text[i])
                i += 1
            i += 1
        elif c == "$" and text.startswith("$(", i):
            end = _closing(text, i + 1, "(", ")")
            out.append(text[i:end])
            symbolic, i = True, end
        elif c == "$":
            m = re.compile(r"\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])").match(text, i)
            end = m.end() if m else i + 1
            out.append(text[i:end])
            symbolic, i = symbolic or bool(m), end
        else:
            out.append(c)
            i += 1
    return ("".join(out), start, symbolic), min(i, n)


def _closing(text: str, i: int, opening: str, closing: str) -> int:
    depth = 0
    for j in range(i, len(text)):
        depth += (text[j] == opening) - (text[j] == closing)
        if depth == 0:
            return j + 1
    return len(text)


# $NAME, ${NAME}, ${NAME-default}, ${NAME:-default}
VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def resolve(word: Word, env: dict[str, Word]) -> Word:
    """`$MODEL`, `${MODEL}`, `${MODEL:-x}` with the script's own assignment (or the default) substituted;
    anything else (`$(...)`, a variable set elsewhere, such as $HOME) stays as written, and the word symbolic."""
    if not word.symbolic:
        return word
    def value(m: re.Match) -> str:
        name = m.group("braced") or m.group("plain")
        if name in env:   # the script's own value, itself resolved as far as it could be
            return env[name].text.partition("=")[2]
        if m.group("default") is not None:
            return m.group("default")
        return m.group(0)   # the host's (HOME, a variable set elsewhere): it stays as written
    try:
        text = SCRIPT_DIR.sub(lambda m: _script_dir(env, m.group("rel")), word.text) if "dirname" in word.text \
            else word.text
    except KeyError:
        return word
    for _ in range(4):   # a default may name another variable: ${LLMC_MODEL:-$MODEL}, ${A:-${B:-$HOME}/x}
        expanded = VARIABLE.sub(value, text)
        if expanded == text:
            break
        text = expanded
    return Word(text, word.start, word.end, "$" in text or "`" in text)


# "$(cd "$(dirname "$0")/.." && pwd)": the script's own directory (and a path from it), a common idiom
SCRIPT_DIR = re.compile(r'\$\(cd "?\$\(dirname "?(?:\$0|\$\{BASH_SOURCE(?:\[0\])?\}|\$BASH_SOURCE)"?\)(?P<rel>/[^"&)]*)?"?'
                        r'\s*&&\s*pwd\)')


def _script_dir(env: dict[str, Word], rel: str | None) -> str:
    script = env.get("0")
    if script is None:
        raise KeyError("0")
    return posixpath.normpath(posixpath.join(posixpath.dirname(script.text[2:]) or ".", (rel or "").lstrip("/")))


def split_words(text: str, base: int = 0) -> list[Word]:
    """One command line's words (a compose `command:` string), the operators between commands dropped."""
    return [w for group in _split(text, base) for w in group]


__all__ = ["Command", "Word", "assignments", "commands", "resolve", "split_words", "unwrap"]
