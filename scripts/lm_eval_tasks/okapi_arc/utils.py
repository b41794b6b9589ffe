import re

import datasets


def preprocess(text):
    text = text.strip()
    # Brackets are artifacts of HellaSwag's WikiHow part (lm-eval's okapi tasks strip them too).
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    text = text.replace("  ", " ")
    return text


def process_docs(dataset: datasets.Dataset) -> datasets.Dataset:
    def _process_doc(doc):
        options = [doc[f"option_{letter}"] for letter in "abcde"]
        return {
            "id": doc["id"],
            "query": "Question: " + preprocess(doc["instruction"]) + "\nAnswer:",
            "choices": [preprocess(option) for option in options if option],
            "gold": ["A", "B", "C", "D", "E"].index(doc["answer"]),
        }

    return dataset.map(_process_doc)
