"""Learning agreements: what each side of a pair wants from it, agreed in a form."""
