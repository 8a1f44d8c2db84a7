"""Parses a CFML file with tree-sitter-cfml (from PyPI) and prints what it found, as JSON:
the parse errors (ERROR or MISSING nodes, with line and text) and the declared functions.
Usage: python3 tests/kits/cfml_parse.py <file> [cfscript|cfml]"""
import json
import sys

import tree_sitter
import tree_sitter_cfml

path, grammar = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "cfscript")
source = open(path, "rb").read()
parser = tree_sitter.Parser(tree_sitter.Language(getattr(tree_sitter_cfml, f"language_{grammar}")()))
tree = parser.parse(source)
errors, functions = [], []
stack = [tree.root_node]
while stack:
    node = stack.pop()
    if node.type == "ERROR" or node.is_missing:
        errors.append({"line": node.start_point[0] + 1, "text": source[node.start_byte:node.end_byte][:80].decode("utf-8", "replace")})
    if node.type == "function_declaration":
        name = node.child_by_field_name("name")
        functions.append(name.text.decode() if name else None)
    stack.extend(reversed(node.children))
print(json.dumps({"root": tree.root_node.type, "errors": errors, "functions": functions}))
