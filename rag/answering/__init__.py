"""From an analysed question and its passages to an answer: query analysis, the word lists, the one
answerability decision (evidence), and the answerers that write from the evidence it accepts."""
