"""Files in and out: safe YAML with limits and line numbers, validated task / space / layout files with
one-line errors, and exports (YAML, JSON, a Python file) that never turn stored text into code."""
