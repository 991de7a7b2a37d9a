"""The vocabulary of patient inputs and diagnosis codes, as the engine and the checks see them."""
