#!/usr/bin/env python3
"""hubctl_verbs.py HUBCTL OUT: a help2man include file (--include) with a VERBS section holding
`hubctl VERB --help` for every verb and action, found from hubctl's own help (the
"Subcommands:" list), so that a new verb appears in the man page without editing this file."""
import re
import subprocess
import sys


def help_text(hubctl, words):
    out = subprocess.run([hubctl, *words, "--help"], capture_output=True, text=True, check=True)
    return out.stdout


def subcommands(text):
    names, inside = [], False
    for line in text.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^  (\S+)\s", line)
            if not m:
                break
            names.append(m.group(1))
    return names


def roff(text):
    lines = []
    for line in text.rstrip("\n").splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def main(hubctl, out_path):
    sections = []

    def walk(words):
        text = help_text(hubctl, words)
        if words:
            sections.append(f'.SS "hubctl {" ".join(words)}"\n.nf\n{roff(text)}\n.fi\n')
        for verb in subcommands(text):
            walk(words + [verb])

    walk([])
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("[VERBS / 命令]\n")
        f.write("Each verb's own help, as `hubctl VERB --help` prints it.\n")
        f.write("每个命令的帮助，与 `hubctl 命令 --help` 的输出相同。\n")
        f.write("".join(sections))
        f.write("[SEE ALSO]\n.BR hubd (1),\n.BR hub-plugin-host (1)\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
