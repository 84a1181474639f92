"""What the comments say, judged by the lexicon: the matcher and its normalisation, the
lexicon and quick replies kept in SQL, the live matcher workers use, script compliance."""
