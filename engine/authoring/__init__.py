"""The tools of the people who write rule sets: the tests embedded in rule files
(`testing`) and what they cover (`coverage`), what changed between two versions of a
rule set and which decisions it turns (`diffing`), the canonical layout of conditions
(`formatting`), and agreement with real cases (`validation`).

They use the core (evidence, evaluation, decisions) and never a face: nothing here
parses arguments, prints or chooses an exit code. The commands that do are in
engine/cli/.
"""
