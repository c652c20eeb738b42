"""`python -m assist_api.assist train`: train the ticket classifier when its data changed.
`python -m assist_api.assist retrain`: learn from the agents, from the configured database: the
suggestion ranker from SuggestionEvent rows (written to settings.resolved_suggest_ranker_file,
which a running service re-reads) and the ticket classifier with their label corrections."""

from __future__ import annotations

import sys

from assist_api.assist.classifier import ensure_trained
from assist_api.assist.classifier_retrain import retrain_classifier
from assist_api.assist.config import load_config
from assist_api.assist.learning import fit, read_impressions
from assist_api.assist.suggest import Suggester
from assist_api.assist.templates import TemplateStore
from config.settings import get_settings
from db.engine import session_factory
from db.migrate import upgrade


def train() -> int:
    path = get_settings().resolved_assist_model_file
    _, trained = ensure_trained(path)
    print(f"[assist] ticket classifier {'trained' if trained else 'up to date'}: {path}")
    return 0


def retrain() -> int:
    settings = get_settings()
    upgrade(settings.database_url)
    sessions = session_factory(settings.database_url)
    report = retrain_classifier(sessions, settings)
    print(f"[assist] ticket classifier retrained with {report.corrections} label corrections: {report.model_path}")
    classifier, _ = ensure_trained(settings.resolved_assist_model_file)
    impressions = read_impressions(sessions)
    templates = TemplateStore(sessions).list()
    model = fit(impressions, Suggester(load_config()), templates, classifier.classify)
    path = settings.resolved_suggest_ranker_file
    model.save(path)
    print(f"[assist] suggestion ranker retrained from {len(impressions)} impressions "
          f"({model.info.get('positives', 0)} accepted items): {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:]) or ["train"]
    if command[0] == "retrain":
        return retrain()
    if command[0] == "train":
        return train()
    print("usage: python -m assist_api.assist [train|retrain]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
