-- The day the sentence was passed, when the officer knows it. The days a
-- person has served, which decide whether a Friday release may be brought
-- forward, count from it; without it they count from received_on, the
-- earliest day we know the person to have been in custody for this sentence.
-- The workflow's state carries it too; this column is the read model's copy,
-- written on opening and by every save of the case.
alter table cases add column sentence_date date;
