# fastText baseline on goemotions: bigrams, one-vs-all, per-label thresholds tuned on a held-out 10% of
# train (the same protocol as tagstream's --multi-label), scored on dev: macro-F1 over the 28 labels.
import json, random, re, sys
import fasttext, numpy as np
def load(p): return [json.loads(l) for l in open(p)]
tr=load('/work/shared/data/goemotions/train.jsonl'); dv=load('/work/shared/data/goemotions/dev.jsonl')
labels=sorted({l for e in tr for l in e['labels']})
rng=random.Random(1); idx=list(range(len(tr))); rng.shuffle(idx); nc=len(tr)//10
calib=[tr[i] for i in idx[:nc]]; fit=[tr[i] for i in idx[nc:]]
norm=lambda s: re.sub(r'\s+',' ',s.lower()).strip()
with open('/tmp/ft_train.txt','w') as f:
    for e in fit: f.write(' '.join('__label__'+l for l in e['labels'])+' '+norm(e['text'])+'\n')
m=fasttext.train_supervised('/tmp/ft_train.txt', epoch=int(sys.argv[1]) if len(sys.argv)>1 else 10, wordNgrams=2, loss='ova', lr=0.5, dim=100, seed=1, thread=2)
def probs(exs):
    P=np.zeros((len(exs),len(labels)))
    for i,e in enumerate(exs):
        ls,ps=m.predict(norm(e['text']),k=-1,threshold=0.0)
        for l,p in zip(ls,ps): P[i,labels.index(l[9:])]=p
    return P
def gold(exs):
    G=np.zeros((len(exs),len(labels)),bool)
    for i,e in enumerate(exs):
        for l in e['labels']: G[i,labels.index(l)]=True
    return G
grid=[i/20 for i in range(1,20)]
Pc,Gc=probs(calib),gold(calib)
th=[]
for j in range(len(labels)):
    best=(-1,0,0.5)
    for t in grid:
        p=Pc[:,j]>=t; g=Gc[:,j]; tp=(p&g).sum(); fp=(p&~g).sum(); fn=(~p&g).sum()
        f1=2*tp/(2*tp+fp+fn) if tp+fp+fn else 0
        c=(f1,-abs(t-0.5),t)
        if c>best: best=c
    th.append(best[2])
Pd,Gd=probs(dv),gold(dv); pred=Pd>=np.array(th)
f1s=[]
TP=FP=FN=0
for j in range(len(labels)):
    p=pred[:,j]; g=Gd[:,j]; tp=(p&g).sum(); fp=(p&~g).sum(); fn=(~p&g).sum(); TP+=tp;FP+=fp;FN+=fn
    f1s.append(2*tp/(2*tp+fp+fn) if tp+fp+fn else 0)
print(json.dumps({"macro_f1":float(np.mean(f1s)),"micro_f1":float(2*TP/(2*TP+FP+FN)),"subset_accuracy":float((pred==Gd).all(1).mean()),"n":len(dv)}))
